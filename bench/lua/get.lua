-- wrk -s bench/lua/get.lua URL: plain GETs (the trivial baselines), figures as JSON.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "done.lua")

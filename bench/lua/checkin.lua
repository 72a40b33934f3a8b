-- wrk -t T -c C -d D -s bench/lua/checkin.lua URL -- TOKENS_FILE BASE_SEQ POLICY_VERSION AT PATH CHECK_IDS THREADS
--
-- Real check-in bodies (5 check results) with real agent credentials, rotating over every device of
-- TOKENS_FILE (one tfa_… per line); each device's seqs keep increasing (BASE_SEQ + round * 8 + n), so
-- every request is fresh data the server must commit before it answers. Thread t of T takes devices
-- t, t+T, t+2T, … so no two threads ever send the same device's seqs.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "done.lua")

local counter = 0
threads = {}  -- read by done.lua: each thread's count of 429 answers
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

shed = 0
function response(status, headers, body)
  if status == 429 then shed = shed + 1 end  -- refused by overload shedding, with Retry-After
end

local tokens, cids = {}, {}
local base, policy, at, path, step, idx, round

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  base = tonumber(args[2])
  policy, at, path = args[3], args[4], args[5]
  for c in string.gmatch(args[6], "%d+") do cids[#cids + 1] = c end
  step = tonumber(args[7] or "1")
  idx = (tid or 0) + 1 - step
  round = 0
end

function request()
  idx = idx + step
  if idx > #tokens then
    idx = (tid or 0) + 1
    round = round + 1
  end
  local seq = base + round * 8
  local parts = {}
  for n = 1, #cids do
    parts[n] = string.format(
      '{"seq":%.0f,"kind":"check_result","at":"%s","data":{"check_id":%s,"status":"pass","value":42.5,"message":"ok"}}',
      seq + n - 1, at, cids[n])
  end
  local body = '{"agent_version":"0.1.0","policy_version":"' .. policy .. '","sent_at":"' .. at ..
    '","items":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. tokens[idx],
                                   ["Content-Type"] = "application/json"}, body)
end

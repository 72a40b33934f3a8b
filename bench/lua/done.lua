-- Shared by the wrk scripts: print wrk's figures as one JSON line the bench parses. A script that counts
-- 429 answers per thread (global `shed`, threads kept in the global `threads`) gets them reported apart.
function done(summary, latency, requests)
  local e = summary.errors
  local shed = 0
  if threads then
    for _, thread in ipairs(threads) do shed = shed + (tonumber(thread:get("shed")) or 0) end
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"shed":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, shed))
end

-- wrk script for bench/service_bench.py: GET requests cycling through a list of paths, then
-- one JSON line with the counts and latency percentiles (microseconds) on stdout.
--
-- usage: wrk -s bench/wrk/requests.lua http://127.0.0.1:PORT -- PATHS_FILE ACCEPT
-- PATHS_FILE holds one request target per line (path and URL-encoded query string). Every
-- thread starts at the first line and goes round the list in order, one request each.

local requests = {}
local next_index = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if line ~= "" then
      -- Built once: a request is a fixed string, so sending it costs wrk nothing more.
      requests[#requests + 1] = wrk.format("GET", line, { ["Accept"] = args[2] })
    end
  end
  file:close()
  assert(#requests > 0, "no request targets in " .. args[1])
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)
  ))
end

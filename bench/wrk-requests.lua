-- Replays pre-built requests (one per line: a form body for POST, a path for GET), split
-- across wrk's threads so one-time codes are used once; answers without the expected
-- text are counted as errors (the gateway answers errors with HTTP 200, like Alipay).
-- args: <file> <threads> <expected substring> <GET|POST>
-- `errors` is global: done() reads each thread's copy with thread:get().
errors = 0
local items, i, threads = {}, 0, {}
local expect, method

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[2])
  expect, method = args[3], args[4]
  local all = {}
  for line in io.lines(args[1]) do table.insert(all, line) end
  -- One-time items are dealt out across threads; a single repeated item goes to all.
  for n, line in ipairs(all) do
    if #all < nthreads or (n - 1) % nthreads == tid then table.insert(items, line) end
  end
end

function request()
  i = i + 1
  local item = items[((i - 1) % #items) + 1]
  if method == "GET" then return wrk.format("GET", item) end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8" }, item)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then errors = errors + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + tonumber(t:get("errors")) end
  io.write(string.format("BODY_ERRORS %d\n", total))
  io.write(string.format("LATENCY_P50_US %d\nLATENCY_P99_US %d\n", latency:percentile(50), latency:percentile(99)))
end

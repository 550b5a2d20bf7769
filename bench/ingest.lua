-- wrk script: replays pre-signed 1Kosmos callbacks (one unique webhook-id each) from the file
-- named by IDV_BENCH_REQUESTS: lines of "id<TAB>timestamp<TAB>signature<TAB>body".
local path = os.getenv("IDV_BENCH_REQUESTS")
local stride = tonumber(os.getenv("IDV_BENCH_THREADS") or "1")
local threads = {}
local reqs = {}
local i = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(path) do
    local id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id,
      ["webhook-timestamp"] = ts,
      ["webhook-signature"] = sig,
    }, body)
  end
end

function request()
  local idx = (i * stride + tid) % #reqs + 1
  i = i + 1
  return reqs[idx]
end

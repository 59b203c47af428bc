-- wrk script for public look-ups: GET /api/v1/track/{item_id} with ids drawn at random from the file named
-- by DPOST_TRACK_IDS (one per line). Ends with the same "result ..." line as dossier-bench's load commands.
local ids = {}
for line in io.lines(os.getenv("DPOST_TRACK_IDS")) do
  if line ~= "" then ids[#ids + 1] = line end
end
assert(#ids > 0, "no item ids in " .. os.getenv("DPOST_TRACK_IDS"))

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

function request()
  return wrk.format("GET", "/api/v1/track/" .. ids[math.random(#ids)])
end

function done(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.connect + errors.read + errors.write + errors.status + errors.timeout
  local ok = summary.requests - errors.status
  io.write(string.format("look-ups: %d answers with a non-2xx/3xx status, %d socket errors\n", errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
  io.write(string.format("result rate=%.1f p50_us=%d p99_us=%d ok=%d errors=%d\n",
    ok / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99), ok, failed))
end

-- The done() of bench/run.py's wrk scripts (loaded by them with dofile): two machine-readable lines,
--   BENCH requests duration_us p50_us p99_us connect_errors read_errors write_errors non_2xx timeouts
--   HIST us:count us:count ...   (every latency seen and how often: run.py merges the runs of a point exactly)

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
  local parts, i = {}, 1
  while true do
    local value, count = latency(i)  -- the i-th distinct latency (microseconds) and its count; 0 after the last
    if value == nil or value == 0 then break end
    parts[#parts + 1] = string.format("%.0f:%.0f", value, count)
    i = i + 1
  end
  io.write("HIST ", table.concat(parts, " "), "\n")
end

-- wrk script for one fixed request: wrk ... -s bench/wrk/static.lua URL -- METHOD BODY ["Header: value" ...]
-- Prints one machine-readable line at the end (see done) that bench/run.py parses.

function init(args)
  wrk.method = args[1]
  if args[2] ~= nil and args[2] ~= "" then
    wrk.body = args[2]
  end
  for i = 3, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")  -- done(): the lines run.py reads

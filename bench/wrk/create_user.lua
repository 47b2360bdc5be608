-- wrk script for POST /api/v2/users, a new user on every request:
--   wrk ... -s bench/wrk/create_user.lua URL/api/v2/users -- PREFIX CLIENT_TOKEN
-- User ids are PREFIX-THREAD-COUNTER (PREFIX differs per wrk run, so ids never repeat on one server).

local next_thread = 0
local counter = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  prefix = args[1]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"id":"%s-%d-%d","password":"bench-secret","email":"bench@example.com","isAutoUpdateEnabled":false}',
    prefix, tid, counter)
  return wrk.format(nil, nil, nil, body)
end

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")  -- done(): the lines run.py reads

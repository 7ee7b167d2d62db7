-- What the gRPC-JSON transcoder cannot do by itself, for REST callers only.
--
-- 1. One path, two methods. Clients of the CAPL Routeur IA API POST to /completion with `"stream": true` or
--    `false`, and OpenAI's clients do the same on /v1/chat/completions; the transcoder picks a
--    method from the path alone. For the paths listed in the route metadata
--    `stream_switches` (rendered from routeur_grpc/gateway/streaming.py), this filter reads
--    the JSON body and, when its top-level `stream` is true, rewrites the path to the
--    streaming method's. Other requests are not buffered (uploads stream through).
-- 2. gRPC's own headers (grpc-status, grpc-message, ...) are for gRPC and gRPC-Web clients:
--    they are removed from REST answers, whose status and JSON body already say it all.

local FILTER = "envoy.filters.http.lua"
local STATE = "routeur.rest_adapter"

-- Whether the top-level object of `json` has `"stream": true`. Strings are skipped as a
-- whole, so a message that merely mentions "stream": true does not count.
local function top_level_stream_flag(json)
  local depth, i = 0, 1
  local expecting_key, key = false, nil
  while true do
    i = string.find(json, '[\"{}%[%],:]', i)
    if i == nil then
      return false
    end
    local ch = string.sub(json, i, i)
    if ch == '"' then
      local j = i + 1
      while true do
        j = string.find(json, '[\"\\]', j)
        if j == nil then
          return false
        end
        if string.sub(json, j, j) == "\\" then
          j = j + 2
        else
          break
        end
      end
      if depth == 1 and expecting_key then
        key = string.sub(json, i + 1, j - 1)
        expecting_key = false
      end
      i = j + 1
    else
      if ch == "{" or ch == "[" then
        depth = depth + 1
        expecting_key = depth == 1 and ch == "{"
      elseif ch == "}" or ch == "]" then
        depth = depth - 1
      elseif ch == "," and depth == 1 then
        expecting_key, key = true, nil
      elseif ch == ":" and depth == 1 and key == "stream" then
        return string.match(json, "^%s*(%a+)", i + 1) == "true"
      end
      i = i + 1
    end
  end
end

local function is_grpc(content_type)
  -- gRPC-Web requests were already turned into gRPC by the grpc_web filter.
  return content_type ~= nil and string.sub(content_type, 1, 16) == "application/grpc"
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  if is_grpc(headers:get("content-type")) then
    return
  end
  request_handle:streamInfo():dynamicMetadata():set(FILTER, STATE, {rest = true})
  if headers:get(":method") ~= "POST" then
    return
  end
  local switches = request_handle:metadata():get("stream_switches")
  if switches == nil then
    return
  end
  local full_path = headers:get(":path")
  local path, query = string.match(full_path, "^([^?]*)(.*)$")
  local stream_path = switches[path]
  if stream_path == nil then
    return
  end
  local body = request_handle:body()
  if body == nil or body:length() == 0 then
    return
  end
  if top_level_stream_flag(body:getBytes(0, body:length())) then
    -- body() waited for the whole body: the headers object from before is stale.
    request_handle:headers():replace(":path", stream_path .. query)
  end
end

local GRPC_HEADERS = {
  "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-encoding",
  "grpc-accept-encoding",
}

local function remove_grpc_headers(headers)
  for _, name in ipairs(GRPC_HEADERS) do
    headers:remove(name)
  end
end

function envoy_on_response(response_handle)
  local state = response_handle:streamInfo():dynamicMetadata():get(FILTER)
  if state == nil or state[STATE] == nil then
    return
  end
  remove_grpc_headers(response_handle:headers())
  -- Over HTTP/2 a stream ends with grpc-status trailers. Waiting for them does not buffer:
  -- the body keeps flowing chunk by chunk.
  local trailers = response_handle:trailers()
  if trailers ~= nil then
    remove_grpc_headers(trailers)
  end
end

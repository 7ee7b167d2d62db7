-- What the gRPC-JSON transcoder cannot do by itself, for REST callers only.
--
-- 1. One path, two methods. Seed 004's clients POST to /completion with `"stream": true` or
--    `false`, and OpenAI's clients do the same on /v1/chat/completions; the transcoder picks a
--    method from the path alone. For the paths listed in the route metadata
--    `stream_switches` (rendered from routeur_grpc/gateway/streaming.py), this filter reads
--    the JSON body and, when its top-level `stream` is true, rewrites the path to the
--    streaming method's. Other requests are not buffered (uploads stream through).
-- 3. Typos are not dropped silently. The transcoder ignores JSON fields the request does
--    not have; for JSON bodies of the paths in the route metadata `json_bodies` (rendered
--    from the descriptor set by routeur_grpc/gateway/body_fields.py), an unknown top-level
--    field is refused with 400 naming it.
-- 2. gRPC's own headers (grpc-status, grpc-message, ...) are for gRPC and gRPC-Web clients:
--    they are removed from REST answers, whose status and JSON body already say it all.
--    In Server-Sent Events, the empty `usage_by_model` and `attempts` of stream pieces are
--    dropped as the events pass.

local FILTER = "envoy.filters.http.lua"
local STATE = "routeur.rest_adapter"

-- The keys of the top-level object of `json`, and whether its `"stream"` is true. Strings
-- are skipped as a whole, so a message that merely mentions "stream": true does not count.
local function top_level_keys(json)
  local keys, stream = {}, false
  local depth, i = 0, 1
  local expecting_key, key = false, nil
  while true do
    i = string.find(json, '[\"{}%[%],:]', i)
    if i == nil then
      return keys, stream
    end
    local ch = string.sub(json, i, i)
    if ch == '"' then
      local j = i + 1
      while true do
        j = string.find(json, '[\"\\]', j)
        if j == nil then
          return keys, stream
        end
        if string.sub(json, j, j) == "\\" then
          j = j + 2
        else
          break
        end
      end
      if depth == 1 and expecting_key then
        key = string.sub(json, i + 1, j - 1)
        keys[#keys + 1] = key
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
        stream = string.match(json, "^%s*(%a+)", i + 1) == "true"
      end
      i = i + 1
    end
  end
end

-- The accepted top-level fields of a JSON body sent with `method` to `path`, from the route
-- metadata `json_bodies` (rendered from the descriptor set), or nil when none is known.
local function accepted_fields(rules, method, path)
  if rules == nil then
    return nil
  end
  for _, rule in ipairs(rules) do
    if rule.method == method and string.match(path, rule.pattern) then
      return rule.fields
    end
  end
  return nil
end

-- A field name fit to quote in a message: printable, short.
local function shown(name)
  local clean = string.gsub(name, "[^%w_%-%.]", "?")
  if #clean > 64 then
    clean = string.sub(clean, 1, 64) .. "..."
  end
  return clean
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
  local method = headers:get(":method")
  if method ~= "POST" and method ~= "PUT" and method ~= "PATCH" then
    return
  end
  local full_path = headers:get(":path")
  local path, query = string.match(full_path, "^([^?]*)(.*)$")
  local switches = request_handle:metadata():get("stream_switches")
  local stream_path = switches and switches[path]
  local fields = accepted_fields(request_handle:metadata():get("json_bodies"), method, path)
  local content_type = headers:get("content-type")
  if content_type ~= nil and not string.find(string.lower(content_type), "json", 1, true) then
    fields = nil -- uploads and other bodies stream through untouched
  end
  if stream_path == nil and fields == nil then
    return
  end
  local body = request_handle:body()
  if body == nil or body:length() == 0 then
    return
  end
  local keys, stream = top_level_keys(body:getBytes(0, body:length()))
  if fields ~= nil then
    for _, key in ipairs(keys) do
      if not fields[key] then
        -- Envoy's local reply mapper turns this text into {code: 3, message, details}.
        request_handle:respond(
          {[":status"] = "400", ["content-type"] = "text/plain"},
          "Unknown field '" .. shown(key) .. "' in the JSON body of " .. method .. " " ..
            path .. ": check its spelling (/openapi.json lists the fields of each request)."
        )
        return
      end
    end
  end
  if stream_path ~= nil and stream then
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
  local headers = response_handle:headers()
  remove_grpc_headers(headers)
  local content_type = headers:get("content-type")
  if content_type ~= nil and string.sub(content_type, 1, 17) == "text/event-stream" then
    -- Stream pieces carry only who is answering: the transcoder prints every empty map
    -- and list of a message (always_print_primitive_fields), which says nothing there.
    -- Each event is rewritten as it passes, nothing is buffered.
    for chunk in response_handle:bodyChunks() do
      local data = chunk:getBytes(0, chunk:length())
      local cleaned = string.gsub(string.gsub(data, ',"usage_by_model":{}', ""), ',"attempts":%[%]', "")
      if #cleaned ~= #data then
        chunk:setBytes(cleaned)
      end
    end
  end
  -- Over HTTP/2 a stream ends with grpc-status trailers. Waiting for them does not buffer:
  -- the body keeps flowing chunk by chunk.
  local trailers = response_handle:trailers()
  if trailers ~= nil then
    remove_grpc_headers(trailers)
  end
end

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
-- 3. Browsers send `text/plain`, form-encoded and multipart POSTs to any site without a
--    CORS preflight, and the transcoder would read their bodies as JSON: a request with a
--    body must say `application/json` (415 otherwise), except on upload paths (route
--    metadata `raw_body_paths`). A CORS preflight that reaches this filter came from an
--    origin the CORS filter refused: it gets a clear 403 rather than a transcoder 404.
-- 4. gRPC-Web calls are POSTs. Another method with a gRPC-Web content type (a GET /models
--    with `application/grpc-web`) is a client's mistake: it gets 405 in JSON here, before
--    the grpc_web filter, rather than a reset from the gRPC server that reaches the client
--    as a retryable 503 with an empty body. (Plain gRPC is left to the server: Envoy would
--    turn any answer of ours into a gRPC status, and gRPC clients only POST.)
-- 5. A 401 answer carries `WWW-Authenticate: Bearer`, as HTTP says it must.
-- 6. In Server-Sent Events, the empty `usage_by_model`, `attempts`, `steps`, `chunks` and
--    `tool_calls` of stream pieces (not of the last event) are dropped as the events pass.
-- 7. Typos are not dropped silently. The transcoder ignores JSON fields the request does
--    not have; for JSON bodies of the paths in the route metadata `json_bodies` (rendered
--    from the descriptor set by routeur_grpc/gateway/body_fields.py), an unknown top-level
--    field is refused with 400 naming it.

local FILTER = "envoy.filters.http.lua"
-- The lists of CompletionMetadata dropped from stream pieces when empty.
local EMPTY_PIECE_LISTS = { "attempts", "steps", "chunks", "tool_calls" }
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

-- Whether `content_type` is gRPC's (`application/grpc`, `application/grpc+proto`, ...) or
-- gRPC-Web's (`application/grpc-web`, `application/grpc-web-text+proto`, ...), as Envoy's
-- gRPC filters read it; `application/grpcfoo` is not.
local function media_type_of(content_type)
  if content_type == nil then
    return ""
  end
  return string.lower(string.match(content_type, "^%s*([^;%s]*)"))
end

local function is_grpc_web(media_type)
  return string.sub(media_type, 1, 20) == "application/grpc-web"
end

local function is_grpc(media_type)
  return media_type == "application/grpc"
    or string.sub(media_type, 1, 17) == "application/grpc+"
    or is_grpc_web(media_type)
end

local function json_error(request_handle, status, code, message)
  request_handle:respond(
    {[":status"] = status, ["content-type"] = "application/json"},
    string.format('{"code": %d, "message": "%s", "details": []}', code, message))
end

local BODY_METHODS = {POST = true, PUT = true, PATCH = true}

-- Whether a request may carry its body to the transcoder.
local function acceptable_body(request_handle, headers, path)
  local raw_paths = request_handle:metadata():get("raw_body_paths")
  if raw_paths == nil then
    return true  -- not an API route (documentation, refused hosts)
  end
  for _, pattern in ipairs(raw_paths) do
    if string.find(path, pattern) then
      return true
    end
  end
  local content_type = headers:get("content-type")
  if content_type == nil then
    -- No body at all is an empty request; a body must say what it is.
    local length = headers:get("content-length")
    return headers:get("transfer-encoding") == nil and (length == nil or length == "0")
  end
  local media_type = string.lower(string.match(content_type, "^%s*([^;%s]*)"))
  return media_type == "application/json"
end

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  local media_type = media_type_of(headers:get("content-type"))
  if is_grpc(media_type) then
    if is_grpc_web(media_type) and headers:get(":method") ~= "POST" then
      request_handle:respond(
        {[":status"] = "405", ["content-type"] = "application/json", ["allow"] = "POST"},
        '{"code": 12, "message": "gRPC-Web calls are POST requests. For REST, send this ' ..
          'request without a gRPC-Web content type (/openapi.json lists the routes).", ' ..
          '"details": []}')
    end
    return
  end
  request_handle:streamInfo():dynamicMetadata():set(FILTER, STATE, {rest = true})
  local method = headers:get(":method")
  if method == "OPTIONS" and headers:get("origin") ~= nil
      and headers:get("access-control-request-method") ~= nil then
    json_error(request_handle, "403", 7,
      "This origin may not call Routeur from a browser: add it to ROUTEUR_CORS_ORIGINS if it is yours.")
    return
  end
  if not BODY_METHODS[method] then
    return
  end
  local full_path = headers:get(":path")
  local path, query = string.match(full_path, "^([^?]*)(.*)$")
  if not acceptable_body(request_handle, headers, path) then
    json_error(request_handle, "415", 3,
      "Send the body as JSON, with the header Content-Type: application/json.")
    return
  end
  local switches = request_handle:metadata():get("stream_switches")
  local stream_path = nil
  if method == "POST" and switches ~= nil then
    stream_path = switches[path]
  end
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

-- One SSE line without the empty maps and lists of a stream piece; the last event (`done`)
-- keeps its full metadata, as the gRPC answer has it.
local function clean_piece(line)
  if string.find(line, '"done":true', 1, true) then
    return line
  end
  local cleaned = string.gsub(line, ',"usage_by_model":{}', "")
  for _, list in ipairs(EMPTY_PIECE_LISTS) do
    cleaned = string.gsub(cleaned, ',"' .. list .. '":%[%]', "")
  end
  return cleaned
end

function envoy_on_response(response_handle)
  local state = response_handle:streamInfo():dynamicMetadata():get(FILTER)
  if state == nil or state[STATE] == nil then
    return
  end
  local headers = response_handle:headers()
  remove_grpc_headers(headers)
  if headers:get(":status") == "401" then
    headers:replace("www-authenticate", 'Bearer realm="routeur"')
  end
  local content_type = headers:get("content-type")
  if content_type ~= nil and string.sub(content_type, 1, 17) == "text/event-stream" then
    -- Stream pieces carry only who is answering: the transcoder prints every empty map
    -- and list of a message (always_print_primitive_fields), which says nothing there.
    -- Each event is rewritten as it passes, nothing is buffered.
    for chunk in response_handle:bodyChunks() do
      local data = chunk:getBytes(0, chunk:length())
      local cleaned = string.gsub(data, "[^\n]+", clean_piece)
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

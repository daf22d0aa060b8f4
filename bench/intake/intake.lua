-- wrk script for bench/intake: signed Shopify orders/create deliveries.
--
-- Every request carries the same body and the same X-Shopify-Hmac-Sha256 (the HMAC covers only the body),
-- and a new X-Shopify-Webhook-Id made of a run tag, the wrk thread number and a per-thread counter; every
-- 10th request re-sends the previous id instead (a duplicate delivery, 10% of all requests).
--
-- Arguments after "--": <body file> <base64 HMAC of the body> <shop domain> <run tag>
-- done() prints one line "BENCH_JSON {...}" with exact counts summed over the threads, wrk's error counts
-- and the latency percentiles in microseconds; bench/intake/run.py reads it.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
   -- wrk calls request() once in the first thread's state before the run starts, to check the request it
   -- builds; that request is never sent. It gets its own id ("<tag>-t1-probe") and is not counted, and
   -- run.py checks that no row with that id was stored.
   thread:set("probe_pending", #threads == 1)
end

function init(args)
   local f = assert(io.open(args[1], "rb"))
   body = f:read("*a")
   f:close()
   prefix = args[4] .. "-t" .. tid .. "-"
   headers = {
      ["Content-Type"] = "application/json",
      ["X-Shopify-Topic"] = "orders/create",
      ["X-Shopify-Hmac-Sha256"] = args[2],
      ["X-Shopify-Shop-Domain"] = args[3],
      ["X-Shopify-API-Version"] = "2026-04",
      ["X-Shopify-Triggered-At"] = "2026-04-01T12:00:00.000000000Z",
   }
   sent, unique, dups, seq = 0, 0, 0, 0
   last_id = nil
   ok, non2xx, accepted, duplicate, unpublished = 0, 0, 0, 0, 0
end

function request()
   if probe_pending then
      probe_pending = false
      headers["X-Shopify-Webhook-Id"] = prefix .. "probe"
      headers["X-Shopify-Event-Id"] = prefix .. "probe"
      return wrk.format("POST", "/webhooks/shopify", headers, body)
   end
   sent = sent + 1
   local id
   if sent % 10 == 0 and last_id ~= nil then
      id = last_id
      dups = dups + 1
   else
      seq = seq + 1
      id = prefix .. seq
      unique = unique + 1
      last_id = id
   end
   headers["X-Shopify-Webhook-Id"] = id
   headers["X-Shopify-Event-Id"] = id
   return wrk.format("POST", "/webhooks/shopify", headers, body)
end

function response(status, hdrs, resp_body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      non2xx = non2xx + 1
   end
   if resp_body ~= nil then
      if string.find(resp_body, '"accepted"', 1, true) then
         accepted = accepted + 1
         if string.find(resp_body, '"published":false', 1, true) then
            unpublished = unpublished + 1
         end
      elseif string.find(resp_body, '"duplicate"', 1, true) then
         duplicate = duplicate + 1
      end
   end
end

local counters = { "sent", "unique", "dups", "ok", "non2xx", "accepted", "duplicate", "unpublished" }

function done(summary, latency, requests)
   local total = {}
   for _, name in ipairs(counters) do
      total[name] = 0
   end
   for _, thread in ipairs(threads) do
      for _, name in ipairs(counters) do
         total[name] = total[name] + (thread:get(name) or 0)
      end
   end
   local parts = {}
   for _, name in ipairs(counters) do
      table.insert(parts, string.format('"%s":%d', name, total[name]))
   end
   local e = summary.errors
   table.insert(parts, string.format('"threads":%d', #threads))
   table.insert(parts, string.format('"duration_us":%d', summary.duration))
   table.insert(parts, string.format('"requests":%d', summary.requests))
   table.insert(parts, string.format('"bytes":%d', summary.bytes))
   table.insert(parts, string.format(
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
      e.connect, e.read, e.write, e.status, e.timeout))
   table.insert(parts, string.format(
      '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
      latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9)))
   io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end

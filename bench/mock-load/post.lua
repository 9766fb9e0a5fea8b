-- wrk script: POST the signed SOAP request named by EIOA_LOAD_BODY to the stand-in.
-- Used by bench/mock-load/run.sh. No `response` hook: it would make wrk parse every
-- body; a fault from the stand-in is never a 200, so wrk's non-2xx count is the error count.
local path = os.getenv("EIOA_LOAD_BODY")
local f = assert(io.open(path, "rb"), "EIOA_LOAD_BODY must name the signed request")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] =
  '"urn:shs:emottagning:SkickaAnmalanFranArbetsgivareResponder:1:SkickaAnmalanFranArbetsgivare"'

function done(summary, latency, requests)
  io.write(string.format("wrk: non-2xx=%d socket-errors(connect,read,write,timeout)=%d,%d,%d,%d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end

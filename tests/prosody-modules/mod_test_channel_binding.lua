-- Test module: gives Prosody 0.12 the channel-binding types it lacks
-- (it has only tls-unique, undefined on TLS 1.3), so that confab's SCRAM
-- -PLUS login meets a real server's check of the binding data: Prosody's
-- own util.sasl.scram compares the client's c= with the GS2 header and
-- what the handlers below return.
--
--   test_cb_types = { "tls-exporter", "tls-server-end-point" }
--       the types announced (XEP-0440) and verified;
--   test_cb_wrong = true
--       computes the data wrongly (another exporter label, a hash of
--       nothing), so a correct client must be refused.
--
-- Runs after mod_saslauth's stream-features hook: adds the -PLUS
-- variant of each offered SCRAM mechanism and <sasl-channel-binding/>.

local st = require "util.stanza";
local hashes = require "util.hashes";

local types = module:get_option_array("test_cb_types", { "tls-exporter", "tls-server-end-point" });
local wrong = module:get_option_boolean("test_cb_wrong", false);

local function unhex(s)
	return (s:gsub("..", function(h) return string.char(tonumber(h, 16)); end));
end

local handlers = {
	["tls-exporter"] = function(sock)
		local label = wrong and "EXPORTER-Channel-Bindinx" or "EXPORTER-Channel-Binding";
		return sock:exportkeyingmaterial(label, 32, "");
	end;
	-- The testbed's certificates are ECDSA with SHA-256 (RFC 5929 §4.1);
	-- LuaSec 1.2 has no getlocalcertificate: the configured file is read.
	["tls-server-end-point"] = function()
		if wrong then return hashes.sha256(""); end
		local ssl = module:get_option("ssl");
		local f = assert(io.open(ssl.certificate));
		local cert = require "ssl.x509".load(f:read("*a"));
		f:close();
		return unhex(cert:digest("sha256"));
	end;
};

module:hook("stream-features", function(event)
	local origin, features = event.origin, event.features;
	local handler = origin.sasl_handler;
	if origin.username or not origin.encrypted or not handler then return; end
	local sock = origin.conn:socket();
	local mechs = features:get_child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl");
	if not mechs then return; end
	for _, t in ipairs(types) do
		handler:add_cb_handler(t, function() return handlers[t](sock); end);
	end
	local plus = {};
	for m in mechs:childtags("mechanism") do
		local name = m:get_text();
		if name:match("^SCRAM%-") and not name:match("%-PLUS$") then
			table.insert(plus, name .. "-PLUS");
		end
	end
	for _, name in ipairs(plus) do
		mechs:tag("mechanism"):text(name):up();
	end
	local cb = st.stanza("sasl-channel-binding", { xmlns = "urn:xmpp:sasl-cb:0" });
	for _, t in ipairs(types) do
		cb:tag("channel-binding", { type = t }):up();
	end
	features:add_child(cb);
end, -10);

-- XEP-0059 Result Set Management for the room list (disco#items) of a
-- MUC component, which Prosody 0.12's mod_muc always sends in one piece.
-- Loaded by confab's tests on the MUC component, so that confab's paging
-- runs against a real server. Without an RSM <set> in the query, the
-- usual handler answers (everything at once).

local st = require "util.stanza";
local rsm = require "util.rsm";

local mod_muc = module:depends("muc");

module:hook("iq-get/host/http://jabber.org/protocol/disco#items:query", function(event)
	local origin, stanza = event.origin, event.stanza;
	local query = stanza.tags[1];
	if query.attr.node and query.attr.node ~= "" then return; end
	local set = rsm.get(query);
	if not set then return; end

	local items = {};
	for room in mod_muc.each_room() do
		if not room:get_hidden() and not room._data.destroyed then
			table.insert(items, { jid = room.jid, name = room:get_name() });
		end
	end
	table.sort(items, function (a, b) return a.jid < b.jid; end);

	local start = 1;
	if type(set.after) == "string" then
		start = #items + 1;
		for i, item in ipairs(items) do
			if item.jid > set.after then start = i; break; end
		end
	end
	local max = set.max or #items;

	local reply = st.reply(stanza):tag("query", { xmlns = "http://jabber.org/protocol/disco#items" });
	local first, last;
	for i = start, math.min(start + max - 1, #items) do
		local item = items[i];
		reply:tag("item", { jid = item.jid, name = item.name }):up();
		first = first or { index = i - 1, item.jid };
		last = item.jid;
	end
	reply:add_child(rsm.generate({ first = first, last = last, count = #items }));
	origin.send(reply);
	return true;
end, 10);

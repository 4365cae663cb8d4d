-- mod_quiet_crowd: the confab testbed's crowd of quiet occupants, for
-- benchmarks of big rooms (flood.rs `Crowd`). Loaded on the MUC service
-- only when a benchmark asks for it.
--
-- Occupants whose real JID is on the crowd's domain (a XEP-0114
-- component) join and speak like anyone, but receive nothing from the
-- room, and their own arrivals and departures are announced to nobody.
-- Clients that join later are sent the whole occupant list as usual,
-- and see what the crowd says. Without it, filling a room with N
-- occupants costs the server N²/2 presences (each join is broadcast to
-- everyone already there): 50 million for 10,000 occupants.

local jid_bare = require "util.jid".bare;

local suffix = "@" .. module:get_option_string("quiet_crowd_domain", "crowd.localhost");

local function is_quiet(jid)
	local bare = jid and jid_bare(jid);
	return bare ~= nil and bare:sub(-#suffix) == suffix;
end

local function patch(room)
	if rawget(room, "quiet_crowd") then return end
	room.quiet_crowd = true;
	local route_stanza = room.route_stanza;
	local send_occupant_list = room.send_occupant_list;
	local publicise = room.publicise_occupant_status;
	room.route_stanza = function (self, stanza)
		if is_quiet(stanza.attr.to) then return end
		return route_stanza(self, stanza);
	end
	room.send_occupant_list = function (self, to, filter)
		if is_quiet(to) then return end
		return send_occupant_list(self, to, filter);
	end
	room.publicise_occupant_status = function (self, occupant, x, nick, actor, reason, prev_role, force_unavailable, recipient)
		if is_quiet(occupant.bare_jid) and (recipient == nil or is_quiet(recipient.bare_jid)) then
			return
		end
		return publicise(self, occupant, x, nick, actor, reason, prev_role, force_unavailable, recipient);
	end
end

module:hook("muc-room-pre-create", function (event) patch(event.room) end, 1000);
module:hook("muc-occupant-pre-join", function (event) patch(event.room) end, 1000);

#!/usr/bin/env python3
"""An independent OMEMO client for confab's integration tests: slixmpp with
slixmpp-omemo 2.2 (python-omemo, python-oldmemo, python-twomemo), logged in
to the testbed's server on loopback.

    omemo_xmpp_peer.py JID PASSWORD PORT CA_FILE [both|0.3]

The server's certificate is checked against the testbed's CA (CA_FILE);
the connection goes to 127.0.0.1:PORT. BTBV: every key is trusted blindly.
"both" (the default) publishes OMEMO 2 and 0.3 devices, as slixmpp-omemo
does; "0.3" only OMEMO 0.3 (then confab must speak 0.3 to it).

slixmpp-omemo 2.2 sends OMEMO 0.3 only and refuses to read OMEMO 2
("SCE not supported yet"): OMEMO 2 is done here with its session manager
(python-omemo with the python-twomemo backend) and the XEP-0420 envelope
of sce_envelope.py, beside this script.

One JSON line per event on stdout:
  {"event": "ready", "device": N}          OMEMO data generated and published
  {"event": "message", "from", "body", "device", "encrypted": true|false,
   "version": "0.3"|"2", "in_clear": {"stanza": XML, "oob": bool,
   "replace": ID|null}}                    what the stanza itself carries
                                           outside the encryption: all of it
                                           as received, whether it has an
                                           OOB element, an XEP-0308 <replace/>
  {"event": "error", "text"}               a message that did not decrypt
  {"event": "sent", "id": ID}              after a "send" command
and one JSON command per line on stdin:
  {"op": "send", "to": JID, "text": T}     encrypt with OMEMO 0.3
                                           (slixmpp-omemo's own way)
      with "version": "2"                  OMEMO 2 instead, the body in an
                                           SCE envelope
      with "forge_from": JID               (OMEMO 2) the envelope's <from/>
                                           says JID, not this account
      with "tamper": true                  one byte of the payload flipped
      with "replay": true                  sent twice (the copy with a new id)
      with "replace": ID                   (0.3) a correction of message ID:
                                           <replace/> beside the OMEMO
                                           element, as Conversations sends it
  {"op": "publish_devices", "ids": [N, ...]}
                                           this account's OMEMO 2 device list
                                           published as given -> "sent"
  {"op": "devices"} -> {"event": "devices", "ids": [...]}
                                           this account's OMEMO 2 device list
                                           as the server has it
  {"op": "join", "room": ROOM, "nick": N}  enter a room (XEP-0045); "sent"
                                           once our own presence is back
  {"op": "send_room", "room": ROOM, "text": T}   -> {"event": "sent", "id"}
      with "replace": ID                   a correction of message ID, as for
                                           "send"
                                           a groupchat message encrypted to
                                           the real JIDs of the occupants
                                           present (ourselves left out)
      with "version": "2"                  OMEMO 2 (the session manager's
                                           twomemo), the envelope's <to/>
                                           the room, <from/> our bare JID
      with "forge_from": JID               (OMEMO 2) <from/> says JID
      with "forge_to": JID                 (OMEMO 2) <to/> says JID
  {"op": "quit"}
Room messages are "message" events with "room" and "nick" as well; our own
0.3 echo is read from slixmpp-omemo's reflection cache ("own": true), our
own OMEMO 2 echo (not encrypted for this device) is left unsaid. An OMEMO 2
room message is decrypted as from the occupant's real JID (the room's
presence), its envelope checked: <from/> that JID, <to/> the room.
"""

import asyncio
import base64
import json
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict, FrozenSet, Optional

import twomemo
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType
from slixmpp import JID
from slixmpp.clientxmpp import ClientXMPP
from slixmpp.plugins import register_plugin
from slixmpp.stanza import Message
from slixmpp_omemo import XEP_0384

import sce_envelope

TWOMEMO = twomemo.twomemo.NAMESPACE
DEVICES_NODE = "urn:xmpp:omemo:2:devices"
FALLBACK = "This message is OMEMO encrypted."


def out(obj: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class MemoryStorage(Storage):
    def __init__(self) -> None:
        super().__init__()
        self.__data: Dict[str, JSONType] = {}

    async def _load(self, key: str) -> Maybe[JSONType]:
        if key in self.__data:
            return Just(self.__data[key])
        return Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.__data[key] = value

    async def _delete(self, key: str) -> None:
        self.__data.pop(key, None)


class XEP_0384Impl(XEP_0384):  # pylint: disable=invalid-name
    default_config = {"fallback_message": "This message is OMEMO encrypted.", "json_file_path": None}

    def plugin_init(self) -> None:
        self.__storage = MemoryStorage()
        super().plugin_init()

    @property
    def storage(self) -> Storage:
        return self.__storage

    @property
    def _btbv_enabled(self) -> bool:
        return True

    async def _devices_blindly_trusted(
        self, blindly_trusted: FrozenSet[DeviceInformation], identifier: Optional[str]
    ) -> None:
        pass

    async def _prompt_manual_trust(
        self, manually_trusted: FrozenSet[DeviceInformation], identifier: Optional[str]
    ) -> None:
        raise RuntimeError("BTBV only")


register_plugin(XEP_0384Impl)


class Peer(ClientXMPP):
    def __init__(self, jid: str, password: str) -> None:
        super().__init__(jid, password)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("omemo_initialized", self.omemo_ready)
        self.add_event_handler("message", self.on_message)
        self.legacy_only = False

    async def start(self, _event: Any) -> None:
        self.send_presence()
        await self.get_roster()

    async def omemo_ready(self, _event: Any) -> None:
        xep_0384: XEP_0384 = self["xep_0384"]
        sm = await xep_0384.get_session_manager()
        info, _ = await sm.get_own_device_information()
        if self.legacy_only:
            # No OMEMO 2 device list: other clients speak 0.3 to this one.
            await self["xep_0060"].delete_node(self.boundjid.bare, DEVICES_NODE)
        out({"event": "ready", "device": info.device_id})
        asyncio.ensure_future(self.commands())

    async def on_message(self, stanza: Message) -> None:
        if stanza["type"] not in ("chat", "normal", "groupchat"):
            return
        where: Dict[str, Any] = {}
        if stanza["type"] == "groupchat":
            where = {"room": stanza["from"].bare, "nick": stanza["from"].resource}
        xep_0384: XEP_0384 = self["xep_0384"]
        v2 = stanza.xml.find(f"{{{TWOMEMO}}}encrypted")
        if v2 is not None:
            await self.on_v2_message(stanza, v2, where)
            return
        if not xep_0384.is_encrypted(stanza):
            if stanza["body"]:
                out({"event": "message", "from": str(stanza["from"]), "body": stanza["body"],
                     "encrypted": False, **where})
            return
        in_clear = self.in_clear(stanza)
        try:
            message, device = await xep_0384.decrypt_message(stanza)
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}", **where})
            return
        if message["body"]:
            own_id = (await (await xep_0384.get_session_manager()).get_own_device_information())[0].device_id
            out({
                "event": "message",
                "from": str(stanza["from"]),
                "body": message["body"],
                "device": device.device_id,
                "encrypted": True,
                "version": "0.3",
                "own": device.device_id == own_id and device.bare_jid == self.boundjid.bare,
                "in_clear": in_clear,
                "id": stanza["id"],
                **where,
            })

    @staticmethod
    def in_clear(stanza: Message) -> Dict[str, Any]:
        """What the stanza carries outside its OMEMO element."""
        replace = stanza.xml.find("{urn:xmpp:message-correct:0}replace")
        return {
            "stanza": str(stanza),
            "oob": stanza.xml.find("{jabber:x:oob}x") is not None,
            "replace": None if replace is None else replace.get("id"),
        }

    async def on_v2_message(self, stanza: Message, element: Any, where: Dict[str, Any]) -> None:
        """OMEMO 2: the session manager decrypts, the envelope is opened and
        its affixes checked here. In a room the sender is the occupant's
        real JID as the room's presence told it, the addressee the room."""
        sender = stanza["from"].bare
        recipient = self.boundjid.bare
        if where:
            real = self["xep_0045"].get_jid_property(stanza["from"].bare, stanza["from"].resource, "jid")
            if real is None:
                out({"event": "error", "text": "OMEMO 2 from an occupant without a real JID", **where})
                return
            sender, recipient = JID(real).bare, stanza["from"].bare
            if sender == self.boundjid.bare:
                return  # our own echo: not encrypted for this device
        try:
            sm = await self["xep_0384"].get_session_manager()
            message = twomemo.etree.parse_message(element, sender)
            plaintext, device, _ = await sm.decrypt(message)
            if plaintext is None:
                return  # an empty message: key transport, heartbeat
            body = sce_envelope.unwrap(plaintext, sender, recipient)
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}", **where})
            return
        out({
            "event": "message",
            "from": str(stanza["from"]),
            "body": body,
            "device": device.device_id,
            "encrypted": True,
            "version": "2",
            **where,
        })

    async def commands(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "publish_devices":
                await self.publish_devices(cmd["ids"])
            elif cmd["op"] == "devices":
                await self.own_devices()
            elif cmd["op"] == "send" and cmd.get("version") == "2":
                await self.send_v2(
                    JID(cmd["to"]), cmd["text"], cmd.get("tamper", False), cmd.get("replay", False),
                    cmd.get("forge_from"),
                )
            elif cmd["op"] == "send":
                await self.send_encrypted(
                    JID(cmd["to"]), cmd["text"], cmd.get("tamper", False), cmd.get("replay", False),
                    cmd.get("replace"),
                )
            if cmd["op"] == "join":
                try:
                    await self["xep_0045"].join_muc_wait(JID(cmd["room"]), cmd["nick"], maxstanzas=0, timeout=20)
                    out({"event": "sent"})
                except Exception as e:  # pylint: disable=broad-except
                    out({"event": "error", "text": f"join: {type(e).__name__}: {e}"})
            if cmd["op"] == "send_room" and cmd.get("version") == "2":
                await self.send_room_v2(
                    JID(cmd["room"]), cmd["text"], cmd.get("forge_from"), cmd.get("forge_to")
                )
            elif cmd["op"] == "send_room":
                await self.send_room(JID(cmd["room"]), cmd["text"], cmd.get("replace"))
        self.disconnect()

    async def send_encrypted(  # pylint: disable=too-many-arguments
        self, to: JID, text: str, tamper: bool, replay: bool, replace: Optional[str] = None
    ) -> None:
        xep_0384: XEP_0384 = self["xep_0384"]
        stanza = self.make_message(mto=to, mtype="chat")
        stanza["body"] = text
        await xep_0384.refresh_device_lists({to}, force_download=True)
        message, errors = await xep_0384.encrypt_message(stanza, to)
        if errors:
            out({"event": "error", "text": f"encryption errors: {errors}"})
        if message is None:
            out({"event": "error", "text": "nothing to send"})
            return
        if tamper:
            for el in message.xml.iter():
                if el.tag.endswith("}payload") and el.text:
                    data = bytearray(base64.b64decode(el.text))
                    data[0] ^= 0x01
                    el.text = base64.b64encode(bytes(data)).decode()
        if replace is not None:
            ET.SubElement(message.xml, "{urn:xmpp:message-correct:0}replace", id=replace)
        raw = str(message)
        message.send()
        if replay:
            old = message["id"]
            self.send_raw(raw.replace(f'id="{old}"', f'id="{self.new_id()}"', 1))
        out({"event": "sent", "id": message["id"]})


    async def send_v2(  # pylint: disable=too-many-arguments
        self, to: JID, text: str, tamper: bool, replay: bool, forge_from: Optional[str]
    ) -> None:
        xep_0384: XEP_0384 = self["xep_0384"]
        await xep_0384.refresh_device_lists({to}, force_download=True)
        sm = await xep_0384.get_session_manager()
        plaintext = sce_envelope.wrap(text, forge_from or str(self.boundjid), to.bare)
        try:
            messages, errors = await sm.encrypt(
                frozenset({to.bare}), {TWOMEMO: plaintext}, backend_priority_order=[TWOMEMO]
            )
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}"})
            return
        if errors:
            out({"event": "error", "text": f"encryption errors: {errors}"})
        stanza = self.make_message(mto=to, mtype="chat")
        stanza["body"] = FALLBACK
        for message in messages:
            if message.namespace != TWOMEMO:
                out({"event": "error", "text": f"not OMEMO 2: {message.namespace}"})
                return
            element = twomemo.etree.serialize_message(message)
            if tamper:
                for el in element.iter():
                    if el.tag.endswith("}payload") and el.text:
                        data = bytearray(base64.b64decode(el.text))
                        data[0] ^= 0x01
                        el.text = base64.b64encode(bytes(data)).decode()
            stanza.append(element)
        stanza.enable("store")
        raw = str(stanza)
        stanza.send()
        if replay:
            old = stanza["id"]
            self.send_raw(raw.replace(f'id="{old}"', f'id="{self.new_id()}"', 1))
        out({"event": "sent"})


    async def publish_devices(self, ids: Any) -> None:
        devices = ET.Element(f"{{{TWOMEMO}}}devices")
        for i in ids:
            ET.SubElement(devices, f"{{{TWOMEMO}}}device", id=str(i))
        try:
            await self["xep_0060"].publish(self.boundjid.bare, DEVICES_NODE, id="current", payload=devices)
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}"})
            return
        out({"event": "sent"})

    async def own_devices(self) -> None:
        try:
            iq = await self["xep_0060"].get_items(self.boundjid.bare, DEVICES_NODE)
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}"})
            return
        ids = []
        for item in iq["pubsub"]["items"]:
            for d in item.xml.iter(f"{{{TWOMEMO}}}device"):
                ids.append(int(d.get("id")))
        out({"event": "devices", "ids": ids})

    def occupants(self, room: JID) -> set:
        """The real bare JIDs of the occupants present, ourselves left out."""
        muc = self["xep_0045"]
        members = set()
        for nick in muc.get_roster(room):
            real = muc.get_jid_property(room, nick, "jid")
            if real is not None and JID(real).bare != self.boundjid.bare:
                members.add(JID(JID(real).bare))
        return members

    async def send_room_v2(
        self, room: JID, text: str, forge_from: Optional[str], forge_to: Optional[str]
    ) -> None:
        """OMEMO 2 to every occupant's devices (and our other ones), the
        envelope to the room's bare JID, from our real bare JID."""
        members = self.occupants(room)
        if not members:
            out({"event": "error", "text": "no occupant with a real JID"})
            return
        xep_0384: XEP_0384 = self["xep_0384"]
        await xep_0384.refresh_device_lists(members, force_download=True)
        sm = await xep_0384.get_session_manager()
        plaintext = sce_envelope.wrap(text, forge_from or self.boundjid.bare, forge_to or room.bare)
        try:
            messages, errors = await sm.encrypt(
                frozenset(m.bare for m in members), {TWOMEMO: plaintext},
                backend_priority_order=[TWOMEMO],
            )
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}"})
            return
        if errors:
            out({"event": "error", "text": f"encryption errors: {errors}"})
        stanza = self.make_message(mto=room, mtype="groupchat")
        stanza["body"] = FALLBACK
        for message in messages:
            if message.namespace != TWOMEMO:
                out({"event": "error", "text": f"not OMEMO 2: {message.namespace}"})
                return
            stanza.append(twomemo.etree.serialize_message(message))
        stanza.enable("store")
        stanza.send()
        out({"event": "sent", "to": sorted(str(m) for m in members)})

    async def send_room(self, room: JID, text: str, replace: Optional[str] = None) -> None:
        members = self.occupants(room)
        if not members:
            out({"event": "error", "text": "no occupant with a real JID"})
            return
        xep_0384: XEP_0384 = self["xep_0384"]
        await xep_0384.refresh_device_lists(members, force_download=True)
        stanza = self.make_message(mto=room, mtype="groupchat")
        stanza["body"] = text
        message, errors = await xep_0384.encrypt_message(stanza, members)
        if errors:
            out({"event": "error", "text": f"encryption errors: {errors}"})
        if message is None:
            out({"event": "error", "text": "nothing to send"})
            return
        if replace is not None:
            ET.SubElement(message.xml, "{urn:xmpp:message-correct:0}replace", id=replace)
        message.send()
        out({"event": "sent", "id": message["id"], "to": sorted(str(m) for m in members)})


def main() -> None:
    jid, password, port, ca_file = sys.argv[1:5]
    peer = Peer(jid, password)
    peer.legacy_only = len(sys.argv) > 5 and sys.argv[5] == "0.3"
    peer.ca_certs = ca_file
    for p in ("xep_0030", "xep_0045", "xep_0060", "xep_0163", "xep_0280", "xep_0334"):
        peer.register_plugin(p)
    peer.register_plugin("xep_0384", module=sys.modules[__name__])
    peer.connect(host="127.0.0.1", port=int(port))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An independent OMEMO client for confab's integration tests: slixmpp with
slixmpp-omemo 2.2 (python-omemo, python-oldmemo, python-twomemo), logged in
to the testbed's server on loopback.

    omemo_xmpp_peer.py JID PASSWORD PORT CA_FILE

The server's certificate is checked against the testbed's CA (CA_FILE);
the connection goes to 127.0.0.1:PORT. BTBV: every key is trusted blindly.

One JSON line per event on stdout:
  {"event": "ready", "device": N}          OMEMO data generated and published
  {"event": "message", "from", "body", "device", "encrypted": true|false}
  {"event": "error", "text"}               a message that did not decrypt
  {"event": "sent"}                        after a "send" command
and one JSON command per line on stdin:
  {"op": "send", "to": JID, "text": T}     encrypt (slixmpp-omemo picks the
                                           version the recipient publishes)
      with "tamper": true                  one byte of the payload flipped
      with "replay": true                  sent twice (the copy with a new id)
  {"op": "join", "room": ROOM, "nick": N}  enter a room (XEP-0045); "sent"
                                           once our own presence is back
  {"op": "send_room", "room": ROOM, "text": T}
                                           a groupchat message encrypted to
                                           the real JIDs of the occupants
                                           present (ourselves left out)
  {"op": "quit"}
Room messages are "message" events with "room" and "nick" as well; our own
echo is read from slixmpp-omemo's reflection cache ("own": true).
"""

import asyncio
import base64
import json
import sys
from typing import Any, Dict, FrozenSet, Optional

from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType
from slixmpp import JID
from slixmpp.clientxmpp import ClientXMPP
from slixmpp.plugins import register_plugin
from slixmpp.stanza import Message
from slixmpp_omemo import XEP_0384


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

    async def start(self, _event: Any) -> None:
        self.send_presence()
        await self.get_roster()

    async def omemo_ready(self, _event: Any) -> None:
        xep_0384: XEP_0384 = self["xep_0384"]
        sm = await xep_0384.get_session_manager()
        info, _ = await sm.get_own_device_information()
        out({"event": "ready", "device": info.device_id})
        asyncio.ensure_future(self.commands())

    async def on_message(self, stanza: Message) -> None:
        if stanza["type"] not in ("chat", "normal", "groupchat"):
            return
        where: Dict[str, Any] = {}
        if stanza["type"] == "groupchat":
            where = {"room": stanza["from"].bare, "nick": stanza["from"].resource}
        xep_0384: XEP_0384 = self["xep_0384"]
        if not xep_0384.is_encrypted(stanza):
            if stanza["body"]:
                out({"event": "message", "from": str(stanza["from"]), "body": stanza["body"],
                     "encrypted": False, **where})
            return
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
                "own": device.device_id == own_id and device.bare_jid == self.boundjid.bare,
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
            if cmd["op"] == "send":
                await self.send_encrypted(
                    JID(cmd["to"]), cmd["text"], cmd.get("tamper", False), cmd.get("replay", False)
                )
            if cmd["op"] == "join":
                try:
                    await self["xep_0045"].join_muc_wait(JID(cmd["room"]), cmd["nick"], maxstanzas=0, timeout=20)
                    out({"event": "sent"})
                except Exception as e:  # pylint: disable=broad-except
                    out({"event": "error", "text": f"join: {type(e).__name__}: {e}"})
            if cmd["op"] == "send_room":
                await self.send_room(JID(cmd["room"]), cmd["text"])
        self.disconnect()

    async def send_encrypted(self, to: JID, text: str, tamper: bool, replay: bool) -> None:
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
        raw = str(message)
        message.send()
        if replay:
            old = message["id"]
            self.send_raw(raw.replace(f'id="{old}"', f'id="{self.new_id()}"', 1))
        out({"event": "sent"})


    async def send_room(self, room: JID, text: str) -> None:
        muc = self["xep_0045"]
        members = set()
        for nick in muc.get_roster(room):
            real = muc.get_jid_property(room, nick, "jid")
            if real is not None and JID(real).bare != self.boundjid.bare:
                members.add(JID(JID(real).bare))
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
        message.send()
        out({"event": "sent", "to": sorted(str(m) for m in members)})


def main() -> None:
    jid, password, port, ca_file = sys.argv[1:5]
    peer = Peer(jid, password)
    peer.ca_certs = ca_file
    for p in ("xep_0030", "xep_0045", "xep_0060", "xep_0163", "xep_0280", "xep_0334"):
        peer.register_plugin(p)
    peer.register_plugin("xep_0384", module=sys.modules[__name__])
    peer.connect(host="127.0.0.1", port=int(port))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()

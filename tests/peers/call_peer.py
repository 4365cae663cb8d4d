"""An independent one-to-one call peer for confab's integration tests,
written from the XEPs: XEP-0353 Jingle Message Initiation for ringing,
XEP-0166/0167 Jingle RTP sessions with XEP-0176 ICE-UDP, XEP-0320 DTLS-SRTP
fingerprints and XEP-0338 BUNDLE, mapped to and from SDP here, with aiortc
(WebRTC: ICE, DTLS-SRTP, Opus) for the media and slixmpp for XMPP.

    call_peer.py JID PASSWORD PORT CA_FILE TONE_HZ RECORD_WAV ON_PROPOSE

It sends a sine of TONE_HZ and records what it receives (48 kHz mono WAV
at RECORD_WAV) once the call ends. ON_PROPOSE says what it does with a
propose: "accept" (ringing, then proceed), "reject" (ringing, then
reject), "ring" (ringing only: a "proceed" command answers later).

The server's certificate is checked against CA_FILE; the connection goes
to 127.0.0.1:PORT; ICE uses loopback host candidates only (no STUN).

One JSON line per event on stdout:
  {"event": "ready"}
  {"event": "propose", "from", "sid"}    a call is proposed to us
  {"event": "ringing" | "proceed" | "reject" | "retract" | "accept" | "finish", "from", "sid"}
  {"event": "session-initiate" | "session-accept" | "session-terminate", "from", "sid"}
  {"event": "connected"}                  ICE + DTLS up
  {"event": "recorded", "path", "seconds"}
  {"event": "error", "text"}
and one JSON command per line on stdin:
  {"op": "call", "to": BARE_JID}          propose, and go on when proceeded
  {"op": "retract"}                       call off our proposal
  {"op": "proceed"}                       answer the proposal that rings
  {"op": "jmi", "to": JID, "action": A, "sid": S}   a JMI message as is
  {"op": "hangup"}                        session-terminate, finish
  {"op": "cut", "seconds": S}             the network drops for S seconds:
                                          every datagram of our ICE sockets,
                                          in or out, is dropped ("cut", then
                                          "uncut"; what is recorded starts
                                          again after the cut)
  {"op": "quit"}
"""

import array
import asyncio
import fractions
import json
import math
import os
import secrets
import sys
import time
import traceback
import wave
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional

import aioice.ice
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from slixmpp import JID
from slixmpp.clientxmpp import ClientXMPP
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import MatchXPath

JINGLE = "urn:xmpp:jingle:1"
RTP = "urn:xmpp:jingle:apps:rtp:1"
ICE = "urn:xmpp:jingle:transports:ice-udp:1"
DTLS = "urn:xmpp:jingle:apps:dtls:0"
GROUP = "urn:xmpp:jingle:apps:grouping:0"
JMI = "urn:xmpp:jingle-message:0"
HINTS = "urn:xmpp:hints"
RATE = 48000
FRAME = 960

# Loopback only: the tests run on one machine, and aioice leaves 127.0.0.1 out.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

# A network drop on demand: until CUT_UNTIL every datagram of the ICE
# sockets, in or out, is dropped, as on a dead path.
CUT_UNTIL = 0.0
_RECEIVED = aioice.ice.StunProtocol.datagram_received
_SEND_DATA = aioice.ice.StunProtocol.send_data
_SEND_STUN = aioice.ice.StunProtocol.send_stun


def _cut() -> bool:
    return time.monotonic() < CUT_UNTIL


def _datagram_received(self: Any, data: Any, addr: Any) -> None:
    if not _cut():
        _RECEIVED(self, data, addr)


async def _send_data(self: Any, data: bytes, addr: Any) -> None:
    if not _cut():
        await _SEND_DATA(self, data, addr)


def _send_stun(self: Any, message: Any, addr: Any) -> None:
    if not _cut():
        _SEND_STUN(self, message, addr)


aioice.ice.StunProtocol.datagram_received = _datagram_received  # type: ignore
aioice.ice.StunProtocol.send_data = _send_data  # type: ignore
aioice.ice.StunProtocol.send_stun = _send_stun  # type: ignore


def debug(*what: Any) -> None:
    if os.environ.get("CALL_PEER_DEBUG"):
        print(*what, file=sys.stderr, flush=True)


def out(obj: Dict[str, Any]) -> None:
    debug(json.dumps(obj))
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Tone(MediaStreamTrack):
    """A sine at `hz`, 20 ms frames of 48 kHz mono s16, paced in real time."""

    kind = "audio"

    def __init__(self, hz: float) -> None:
        super().__init__()
        self.hz = hz
        self.n = 0
        self.start: Optional[float] = None

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.n * FRAME / RATE - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        first = self.n * FRAME
        samples = array.array(
            "h",
            (int(0.5 * 32767 * math.sin(2 * math.pi * self.hz * (first + i) / RATE)) for i in range(FRAME)),
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = RATE
        frame.pts = first
        frame.time_base = fractions.Fraction(1, RATE)
        self.n += 1
        return frame


# ------------------------------------------------------------- SDP ↔ Jingle


def direction(senders: str, writer_is_initiator: bool) -> str:
    if senders == "both":
        return "sendrecv"
    if senders == "none":
        return "inactive"
    sends = (senders == "initiator") == writer_is_initiator
    return "sendonly" if sends else "recvonly"


def senders_of(direction_: str, writer_is_initiator: bool) -> str:
    if direction_ == "sendrecv":
        return "both"
    if direction_ == "inactive":
        return "none"
    writer, other = ("initiator", "responder") if writer_is_initiator else ("responder", "initiator")
    return writer if direction_ == "sendonly" else other


def candidate_line(c: ET.Element) -> str:
    line = (
        f"candidate:{c.get('foundation')} {c.get('component')} {c.get('protocol', 'udp')} "
        f"{c.get('priority')} {c.get('ip')} {c.get('port')} typ {c.get('type', 'host')}"
    )
    if c.get("rel-addr") and c.get("rel-port"):
        line += f" raddr {c.get('rel-addr')} rport {c.get('rel-port')}"
    return line + f" generation {c.get('generation', '0')}"


def jingle_to_sdp(jingle: ET.Element, writer_is_initiator: bool, extra: Dict[str, List[str]]) -> str:
    lines = ["v=0", f"o=- {secrets.randbelow(2**62)} 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    group = jingle.find(f"{{{GROUP}}}group")
    if group is not None:
        names = [c.get("name") for c in group.findall(f"{{{GROUP}}}content")]
        lines.append(f"a=group:{group.get('semantics', 'BUNDLE')} {' '.join(names)}")
    for content in jingle.findall(f"{{{JINGLE}}}content"):
        name = content.get("name")
        desc = content.find(f"{{{RTP}}}description")
        transport = content.find(f"{{{ICE}}}transport")
        if desc is None or transport is None:
            raise ValueError(f"content {name} lacks an RTP description or ICE-UDP transport")
        pts = desc.findall(f"{{{RTP}}}payload-type")
        lines.append(f"m={desc.get('media')} 9 UDP/TLS/RTP/SAVPF {' '.join(p.get('id') for p in pts)}")
        lines.append("c=IN IP4 0.0.0.0")
        lines.append(f"a=ice-ufrag:{transport.get('ufrag')}")
        lines.append(f"a=ice-pwd:{transport.get('pwd')}")
        fp = transport.find(f"{{{DTLS}}}fingerprint")
        if fp is not None:
            lines.append(f"a=fingerprint:{fp.get('hash')} {fp.text.strip()}")
            lines.append(f"a=setup:{fp.get('setup', 'actpass')}")
        lines.append(f"a=mid:{name}")
        lines.append("a=" + direction(content.get("senders", "both"), writer_is_initiator))
        if desc.find(f"{{{RTP}}}rtcp-mux") is not None:
            lines.append("a=rtcp-mux")
        for p in pts:
            channels = p.get("channels", "1")
            rtpmap = f"a=rtpmap:{p.get('id')} {p.get('name')}/{p.get('clockrate')}"
            lines.append(rtpmap + (f"/{channels}" if channels != "1" else ""))
            params = [f"{x.get('name')}={x.get('value')}" for x in p.findall(f"{{{RTP}}}parameter")]
            if params:
                lines.append(f"a=fmtp:{p.get('id')} {';'.join(params)}")
        for c in transport.findall(f"{{{ICE}}}candidate"):
            lines.append("a=" + candidate_line(c))
        for c in extra.get(name, []):
            lines.append("a=" + c)
    return "\r\n".join(lines) + "\r\n"


def sdp_to_contents(sdp: str, writer_is_initiator: bool) -> List[ET.Element]:
    """The Jingle <content/>s (and a BUNDLE <group/>) of an SDP."""
    session_fp = None
    group = None
    sections: List[List[str]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        elif line.startswith("a=fingerprint:"):
            session_fp = line
        elif line.startswith("a=group:"):
            group = line[len("a=group:"):].split()
    elements: List[ET.Element] = []
    if group:
        g = ET.Element(f"{{{GROUP}}}group", {"semantics": group[0]})
        for n in group[1:]:
            ET.SubElement(g, f"{{{GROUP}}}content", {"name": n})
        elements.append(g)
    for sec in sections:
        media = sec[0][2:].split()[0]
        attrs = {}
        rtpmaps, fmtps, cands = [], {}, []
        dir_ = "sendrecv"
        fp, setup, mux = session_fp, "actpass", False
        for line in sec[1:]:
            if not line.startswith("a="):
                continue
            key, _, value = line[2:].partition(":")
            if key in ("ice-ufrag", "ice-pwd", "mid"):
                attrs[key] = value
            elif key == "fingerprint" and (fp is None or fp is session_fp):
                # The first (aiortc: sha-256); one is enough (XEP-0320).
                fp = line
            elif key == "setup":
                setup = value
            elif key == "rtpmap":
                pt, _, codec = value.partition(" ")
                rtpmaps.append((pt, codec.split("/")))
            elif key == "fmtp":
                pt, _, params = value.partition(" ")
                fmtps[pt] = [p.split("=", 1) for p in params.split(";") if "=" in p]
            elif key == "candidate":
                cands.append(value)
            elif key == "rtcp-mux":
                mux = True
            elif key in ("sendrecv", "sendonly", "recvonly", "inactive"):
                dir_ = key
        content = ET.Element(
            f"{{{JINGLE}}}content",
            {"creator": "initiator", "name": attrs.get("mid", "0"), "senders": senders_of(dir_, writer_is_initiator)},
        )
        desc = ET.SubElement(content, f"{{{RTP}}}description", {"media": media})
        for pt, codec in rtpmaps:
            p = ET.SubElement(
                desc,
                f"{{{RTP}}}payload-type",
                {"id": pt, "name": codec[0], "clockrate": codec[1], "channels": codec[2] if len(codec) > 2 else "1"},
            )
            for k, v in fmtps.get(pt, []):
                ET.SubElement(p, f"{{{RTP}}}parameter", {"name": k.strip(), "value": v.strip()})
        if mux:
            ET.SubElement(desc, f"{{{RTP}}}rtcp-mux")
        transport = ET.SubElement(
            content, f"{{{ICE}}}transport", {"ufrag": attrs.get("ice-ufrag", ""), "pwd": attrs.get("ice-pwd", "")}
        )
        if fp:
            hash_, _, value = fp[len("a=fingerprint:"):].partition(" ")
            f = ET.SubElement(transport, f"{{{DTLS}}}fingerprint", {"hash": hash_, "setup": setup})
            f.text = value
        for c in cands:
            transport.append(jingle_candidate(c))
        elements.append(content)
    return elements


def jingle_candidate(line: str) -> ET.Element:
    parts = line.split()
    attrs = {
        "foundation": parts[0],
        "component": parts[1],
        "protocol": parts[2].lower(),
        "priority": parts[3],
        "ip": parts[4],
        "port": parts[5],
        "type": parts[7],
        "generation": "0",
        "id": secrets.token_hex(4),
    }
    rest = parts[8:]
    for k, v in zip(rest[::2], rest[1::2]):
        if k == "raddr":
            attrs["rel-addr"] = v
        elif k == "rport":
            attrs["rel-port"] = v
        elif k == "generation":
            attrs["generation"] = v
    return ET.Element(f"{{{ICE}}}candidate", attrs)


# -------------------------------------------------------------------- peer


class Call:
    def __init__(self, sid: str, peer: JID, initiator: bool) -> None:
        self.sid = sid
        self.peer = peer  # the other side's full JID once known
        self.initiator = initiator
        self.pc: Optional[RTCPeerConnection] = None
        self.trickled: Dict[str, List[str]] = {}
        self.remote_set = False
        self.samples = array.array("h")
        self.recorder: Optional[asyncio.Task] = None
        self.done = False


class Peer(ClientXMPP):
    def __init__(self, jid: str, password: str, hz: float, record: str, on_propose: str) -> None:
        super().__init__(jid, password)
        self.hz = hz
        self.record = record
        self.on_propose = on_propose
        self.call: Optional[Call] = None
        self.proposed_to: Optional[JID] = None
        self.add_event_handler("session_start", self.start)
        # slixmpp's "message" event wants a body; JMI messages have none.
        for action in ("propose", "ringing", "proceed", "accept", "reject", "retract", "finish"):
            self.register_handler(
                CoroutineCallback(
                    f"jmi-{action}", MatchXPath(f"{{jabber:client}}message/{{{JMI}}}{action}"), self.on_message
                )
            )
        self.register_handler(
            CoroutineCallback("jingle", MatchXPath(f"{{jabber:client}}iq/{{{JINGLE}}}jingle"), self.on_jingle)
        )

    async def start(self, _event: Any) -> None:
        self.send_presence()
        out({"event": "ready"})
        asyncio.ensure_future(self.commands())

    # ---- XEP-0353

    def send_jmi(self, to: JID, action: str, sid: str, reason: Optional[str] = None, media: bool = False) -> None:
        m = self.make_message(mto=to, mtype="chat")
        el = ET.Element(f"{{{JMI}}}{action}", {"id": sid})
        if media:
            ET.SubElement(el, f"{{{RTP}}}description", {"media": "audio"})
        if reason:
            r = ET.SubElement(el, f"{{{JINGLE}}}reason")
            ET.SubElement(r, f"{{{JINGLE}}}{reason}")
        m.xml.append(el)
        m.xml.append(ET.Element(f"{{{HINTS}}}store"))
        m.send()

    async def on_message(self, msg: Any) -> None:
        el = next((c for c in msg.xml if c.tag.startswith(f"{{{JMI}}}")), None)
        if el is None:
            return
        action = el.tag.split("}")[1]
        sid = el.get("id")
        frm = msg["from"]
        out({"event": action, "from": str(frm), "sid": sid})
        if action == "propose":
            if self.call is not None:
                self.send_jmi(frm, "reject", sid, "busy")
                return
            self.call = Call(sid, frm, initiator=False)
            self.send_jmi(frm, "ringing", sid)
            if self.on_propose == "accept":
                self.proceed()
            elif self.on_propose == "reject":
                self.send_jmi(frm, "reject", sid, "decline")
                self.call = None
        elif action == "retract" and self.call and self.call.sid == sid and frm == self.call.peer:
            self.call = None
        elif action == "proceed" and self.call and self.call.initiator and self.call.sid == sid:
            if frm.bare != self.proposed_to.bare or self.call.pc is not None:
                return
            self.call.peer = frm
            await self.offer()
        elif action == "reject" and self.call and self.call.initiator and self.call.sid == sid:
            if frm.bare == self.proposed_to.bare:
                self.call = None

    def proceed(self) -> None:
        c = self.call
        if c is None or c.initiator:
            out({"event": "error", "text": "nothing rings"})
            return
        self.send_jmi(c.peer, "proceed", c.sid)
        self.send_jmi(self.boundjid.bare, "accept", c.sid)

    # ---- Jingle

    def new_pc(self, c: Call) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(Tone(self.hz))

        @pc.on("connectionstatechange")
        async def _state() -> None:
            out({"event": "state", "state": pc.connectionState})
            if pc.connectionState == "connected":
                out({"event": "connected"})

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                c.recorder = asyncio.ensure_future(self.receive(c, track))

        c.pc = pc
        return pc

    async def receive(self, c: Call, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:  # pylint: disable=broad-except
                return
            channels = len(frame.layout.channels)
            data = array.array("h")
            data.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
            c.samples.extend(data[::channels])

    def jingle_iq(self, to: JID, action: str, sid: str) -> Any:
        iq = self.make_iq_set(ito=to)
        j = ET.SubElement(iq.xml, f"{{{JINGLE}}}jingle", {"action": action, "sid": sid})
        return iq, j

    async def offer(self) -> None:
        c = self.call
        pc = self.new_pc(c)
        await pc.setLocalDescription(await pc.createOffer())
        debug("local offer", pc.localDescription.sdp)
        iq, j = self.jingle_iq(c.peer, "session-initiate", c.sid)
        j.set("initiator", str(self.boundjid))
        for el in sdp_to_contents(pc.localDescription.sdp, True):
            j.append(el)
        out({"event": "sent", "what": "session-initiate"})
        try:
            await iq.send()
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"session-initiate refused: {e}"})

    async def on_jingle(self, iq: Any) -> None:
        try:
            await self.jingle(iq)
        except Exception as e:  # pylint: disable=broad-except
            out({"event": "error", "text": f"{type(e).__name__}: {e}"})
            debug(traceback.format_exc())

    async def jingle(self, iq: Any) -> None:
        j = iq.xml.find(f"{{{JINGLE}}}jingle")
        debug("jingle in", ET.tostring(j).decode())
        action, sid, frm = j.get("action"), j.get("sid"), iq["from"]
        out({"event": action, "from": str(frm), "sid": sid})
        c = self.call
        if c is None or c.sid != sid or c.peer != frm:
            err = iq.reply(clear=True).error()
            err["error"]["condition"] = "item-not-found"
            err.send()
            return
        iq.reply(clear=True).send()
        if action == "session-initiate" and not c.initiator and c.pc is None:
            # Candidates trickled right after the offer are folded in.
            await asyncio.sleep(0.3)
            pc = self.new_pc(c)
            offer = jingle_to_sdp(j, True, c.trickled)
            debug("remote offer", offer)
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            c.remote_set = True
            await pc.setLocalDescription(await pc.createAnswer())
            acc, aj = self.jingle_iq(c.peer, "session-accept", sid)
            aj.set("responder", str(self.boundjid))
            for el in sdp_to_contents(pc.localDescription.sdp, False):
                aj.append(el)
            await acc.send()
        elif action == "session-accept" and c.initiator and c.pc is not None:
            await asyncio.sleep(0.3)
            answer = jingle_to_sdp(j, False, c.trickled)
            debug("remote answer", answer)
            await c.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            c.remote_set = True
        elif action == "transport-info":
            for content in j.findall(f"{{{JINGLE}}}content"):
                name = content.get("name")
                for cand in content.iter(f"{{{ICE}}}candidate"):
                    line = candidate_line(cand)
                    if c.remote_set and c.pc is not None:
                        ice = candidate_from_sdp(line[len("candidate:"):])
                        ice.sdpMid = name
                        ice.sdpMLineIndex = 0
                        await c.pc.addIceCandidate(ice)
                    else:
                        c.trickled.setdefault(name, []).append(line)
        elif action == "session-terminate":
            await self.finish(c)

    async def finish(self, c: Call) -> None:
        if c.done:
            return
        c.done = True
        if c.pc is not None:
            await c.pc.close()
        if c.recorder is not None:
            c.recorder.cancel()
        with wave.open(self.record, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(c.samples.tobytes())
        out({"event": "recorded", "path": self.record, "seconds": len(c.samples) / RATE})
        self.call = None

    async def hangup(self) -> None:
        c = self.call
        if c is None:
            return
        iq, j = self.jingle_iq(c.peer, "session-terminate", c.sid)
        r = ET.SubElement(j, f"{{{JINGLE}}}reason")
        ET.SubElement(r, f"{{{JINGLE}}}success")
        iq.send()
        self.send_jmi(c.peer, "finish", c.sid, "success")
        await self.finish(c)

    async def cut(self, seconds: float) -> None:
        global CUT_UNTIL  # pylint: disable=global-statement
        CUT_UNTIL = time.monotonic() + seconds
        out({"event": "cut", "seconds": seconds})
        await asyncio.sleep(seconds)
        if self.call is not None:
            self.call.samples = array.array("h")
        out({"event": "uncut"})

    async def commands(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            cmd = json.loads(line)
            op = cmd["op"]
            if op == "quit":
                break
            if op == "call":
                to = JID(cmd["to"])
                self.proposed_to = to
                self.call = Call(secrets.token_hex(16), to, initiator=True)
                self.send_jmi(to, "propose", self.call.sid, media=True)
                out({"event": "proposed", "sid": self.call.sid})
            elif op == "retract" and self.call and self.call.initiator:
                self.send_jmi(self.proposed_to, "retract", self.call.sid, "cancel")
                self.call = None
            elif op == "proceed":
                self.proceed()
            elif op == "jmi":
                self.send_jmi(JID(cmd["to"]), cmd["action"], cmd["sid"])
                out({"event": "sent", "what": cmd["action"]})
            elif op == "hangup":
                await self.hangup()
            elif op == "cut":
                asyncio.ensure_future(self.cut(float(cmd["seconds"])))
        if self.call is not None:
            await self.finish(self.call)
        self.disconnect()


def main() -> None:
    jid, password, port, ca_file, hz, record, on_propose = sys.argv[1:8]
    peer = Peer(jid, password, float(hz), record, on_propose)
    peer.ca_certs = ca_file
    peer.register_plugin("xep_0030")
    peer.connect(host="127.0.0.1", port=int(port))
    asyncio.get_event_loop().run_until_complete(peer.disconnected)


if __name__ == "__main__":
    main()

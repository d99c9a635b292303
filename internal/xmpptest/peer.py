# A slixmpp client for gab's tests, driven by JSON lines on stdin; it reports
# what it sees as JSON lines on stdout.
import asyncio
import base64
import json
import logging
import sys

import slixmpp
import slixmpp.exceptions
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_SID = "urn:xmpp:sid:0"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_DELAY = "urn:xmpp:delay"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_CONFERENCE = "jabber:x:conference"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_FASTEN = "urn:xmpp:fasten:0"
NS_MODERATE = "urn:xmpp:message-moderate:0"
NS_RETRACT = "urn:xmpp:message-retract:0"
NS_RETRACT1 = "urn:xmpp:message-retract:1"
NS_REACTIONS = "urn:xmpp:reactions:0"
NS_REPLY = "urn:xmpp:reply:0"
NS_FALLBACK = "urn:xmpp:fallback:0"
NS_FEATURE_FALLBACK = "urn:xmpp:feature-fallback:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_PUBSUB_EVENT = NS_PUBSUB + "#event"
NS_PUBSUB_OWNER = NS_PUBSUB + "#owner"
NS_PUBSUB_ERRORS = NS_PUBSUB + "#errors"
NS_FORMS = "jabber:x:data"
NS_OMEMO03 = "eu.siacs.conversations.axolotl"
NS_OMEMO03_LIST = NS_OMEMO03 + ".devicelist"
NS_OMEMO2 = "urn:xmpp:omemo:2"
NS_OMEMO2_DEVICES = NS_OMEMO2 + ":devices"
NS_OMEMO2_BUNDLES = NS_OMEMO2 + ":bundles"
NS_EME = "urn:xmpp:eme:0"
NS_HINTS = "urn:xmpp:hints"
NS_SCE = "urn:xmpp:sce:1"
OMEMO_VERSIONS = {"0.3": NS_OMEMO03, "2": NS_OMEMO2}
OMEMO_FALLBACK = "I sent you an OMEMO encrypted message but your client doesn’t seem to support that."

# Short names for the room configuration fields a test may set; any other
# field goes by its own name in "fields".
CONFIG_FIELDS = {
    "members_only": "muc#roomconfig_membersonly",
    "password": "muc#roomconfig_roomsecret",
    "persistent": "muc#roomconfig_persistentroom",
    "moderated": "muc#roomconfig_moderatedroom",
    "whois": "muc#roomconfig_whois",
    "mam": "muc#roomconfig_enablearchiving",
    "max_users": "muc#roomconfig_maxusers",
    "name": "muc#roomconfig_roomname",
    "public": "muc#roomconfig_publicroom",
    "change_subject": "muc#roomconfig_changesubject",
    "allow_invites": "muc#roomconfig_allowinvites",
    "history_length": "muc#roomconfig_historylength",
}


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca):
        super().__init__(jid, password)
        self.ca_certs = ca
        for p in ("xep_0030", "xep_0085", "xep_0115", "xep_0184", "xep_0199", "xep_0203", "xep_0333",
                  "xep_0004", "xep_0045", "xep_0249", "xep_0308", "xep_0359", "xep_0421",
                  "xep_0066", "xep_0334", "xep_0422", "xep_0424", "xep_0428", "xep_0444", "xep_0461"):
            self.register_plugin(p)
        # OMEMO (python3-omemo with oldmemo and twomemo), once enabled.
        self.omemo = None
        self.register_handler(Callback("gab test OMEMO", StanzaPath("message"), self.on_omemo))
        # Rooms joined or being joined: room JID -> our nick there.
        self.rooms = {}
        # Joins waiting for the self-presence or an error: room JID -> future.
        self.joining = {}
        self.register_handler(Callback("gab test MUC presence", StanzaPath("presence"), self.on_muc_presence))
        self.register_handler(Callback("gab test MUC message", StanzaPath("message"), self.on_any_message))
        self.register_handler(Callback("gab test message actions", StanzaPath("message"), self.on_action))
        # Subscriptions are answered by explicit commands only.
        self.roster.auto_authorize = None
        self.roster.auto_subscribe = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("chatstate", self.on_chatstate)
        for t in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
            self.add_event_handler("presence_" + t, self.make_sub_handler(t))
        self.add_event_handler("presence_available", lambda p: out({"event": "presence", "from": str(p["from"]), "type": "available", "show": p["show"], "status": p["status"]}))
        self.add_event_handler("presence_unavailable", lambda p: out({"event": "presence", "from": str(p["from"]), "type": "unavailable"}))
        self.add_event_handler("receipt_received", lambda m: out({"event": "receipt", "from": str(m["from"]), "id": m["receipt"]}))
        self.add_event_handler("marker_displayed", lambda m: out({"event": "displayed", "from": str(m["from"]), "id": m["displayed"]["id"]}))
        self.add_event_handler("failed_auth", lambda e: out({"event": "error", "text": "auth failed"}))

    def make_sub_handler(self, t):
        return lambda p: out({"event": t, "from": p["from"].bare})

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        out({"event": "ready", "jid": str(self.boundjid)})
        asyncio.ensure_future(self.commands())

    def on_message(self, msg):
        if self.muc_message(msg, report=False):
            return
        if omemo_element(msg.xml) is not None:
            return  # reported by on_omemo
        if msg["type"] in ("chat", "normal") and msg["body"]:
            ev = {"event": "message", "from": str(msg["from"]), "body": msg["body"], "id": msg["id"]}
            add_oob(ev, msg.xml)
            out(ev)

    def on_action(self, msg):
        """Reports replies, reactions and retractions, in chats and rooms,
        as slixmpp reads them."""
        x = msg.xml
        base = {"from": str(msg["from"]), "type": msg["type"], "id": msg["id"]}
        occ = x.find("{%s}occupant-id" % NS_OCCUPANT_ID)
        if occ is not None:
            base["occupant_id"] = occ.get("id", "")
        r = x.find("{%s}reactions" % NS_REACTIONS)
        if r is not None:
            out(dict(base, event="reactions", target=r.get("id", ""),
                     values=[e.text or "" for e in r.findall("{%s}reaction" % NS_REACTIONS)]))
        v1 = x.find("{%s}retract" % NS_RETRACT1)
        apply = x.find("{%s}apply-to" % NS_FASTEN)
        v0 = apply is not None and apply.find("{%s}retract" % NS_RETRACT) is not None
        if v1 is not None or v0:
            out(dict(base, event="retract", target=(v1.get("id", "") if v1 is not None else apply.get("id", "")),
                     v1=v1 is not None, v0=v0, body=msg["body"],
                     fallback=x.find("{%s}fallback" % NS_FALLBACK) is not None))
        rep = x.find("{%s}reply" % NS_REPLY)
        if rep is not None:
            out(dict(base, event="reply", target=rep.get("id", ""), to=rep.get("to", ""), body=msg["body"],
                     stripped=msg["feature_fallback"].get_stripped_body(),
                     fallback=x.find("{%s}fallback" % NS_FALLBACK) is not None))

    def on_any_message(self, msg):
        self.muc_message(msg, report=True)

    def muc_message(self, msg, report):
        """Reports a message that has to do with rooms when report is set;
        says whether it was one. Slixmpp's "message" event covers messages
        with a body only, so this also runs from a handler of its own."""
        x = msg.xml
        room = msg["from"].bare
        user = x.find("{%s}x" % NS_MUC_USER)
        if user is not None and user.find("{%s}invite" % NS_MUC_USER) is not None:
            if report:
                inv = user.find("{%s}invite" % NS_MUC_USER)
                ev = {"event": "invite", "kind": "mediated", "room": room, "from": inv.get("from", ""),
                      "reason": text_of(inv, "{%s}reason" % NS_MUC_USER)}
                pw = user.find("{%s}password" % NS_MUC_USER)
                if pw is not None:
                    ev["password"] = pw.text or ""
                out(ev)
            return True
        direct = x.find("{%s}x" % NS_CONFERENCE)
        if direct is not None:
            if report:
                out({"event": "invite", "kind": "direct", "room": direct.get("jid", ""), "from": str(msg["from"]),
                     "reason": direct.get("reason", ""), "password": direct.get("password", "")})
            return True
        if msg["type"] == "groupchat":
            if report:
                self.on_groupchat(msg)
            return True
        if room not in self.rooms:
            return False
        if msg["type"] == "error":
            if report:
                cond, text = error_of(x)
                out({"event": "muc_message_error", "room": room, "nick": msg["from"].resource, "id": msg["id"],
                     "condition": cond, "text": text})
            return True
        if msg["type"] == "chat" and msg["body"]:
            if report:
                ev = {"event": "muc_pm", "room": room, "nick": msg["from"].resource, "body": msg["body"], "id": msg["id"]}
                oid = x.find("{%s}occupant-id" % NS_OCCUPANT_ID)
                if oid is not None:
                    ev["occupant_id"] = oid.get("id", "")
                out(ev)
            return True
        return False

    def on_groupchat(self, msg):
        x = msg.xml
        ev = {"event": "groupchat", "room": msg["from"].bare, "nick": msg["from"].resource,
              "id": msg["id"], "body": msg["body"]}
        subject = x.find("{jabber:client}subject")
        if subject is not None:
            ev["subject"] = subject.text or ""
            if not msg["body"]:
                ev["event"] = "subject"
        for sid in x.findall("{%s}stanza-id" % NS_SID):
            ev["stanza_id"], ev["stanza_id_by"] = sid.get("id", ""), sid.get("by", "")
        oid = x.find("{%s}origin-id" % NS_SID)
        if oid is not None:
            ev["origin_id"] = oid.get("id", "")
        occ = x.find("{%s}occupant-id" % NS_OCCUPANT_ID)
        if occ is not None:
            ev["occupant_id"] = occ.get("id", "")
        delay = x.find("{%s}delay" % NS_DELAY)
        if delay is not None:
            ev["delay"], ev["delay_from"] = delay.get("stamp", ""), delay.get("from", "")
        rep = x.find("{%s}replace" % NS_CORRECT)
        if rep is not None:
            ev["replace"] = rep.get("id", "")
        add_oob(ev, x)
        apply = x.find("{%s}apply-to" % NS_FASTEN)
        moderated = apply.find("{%s}moderated" % NS_MODERATE) if apply is not None else None
        if moderated is not None and not msg["body"]:
            ev["event"] = "moderated"
            ev["target"] = apply.get("id", "")
            ev["by"] = moderated.get("by", "")
            ev["retract"] = moderated.find("{%s}retract" % NS_RETRACT) is not None
            ev["reason"] = text_of(moderated, "{%s}reason" % NS_MODERATE)
            out(ev)
            return
        for child in x:
            if child.tag.startswith("{%s}" % NS_CHATSTATES):
                ev["state"] = child.tag.split("}")[1]
        if not msg["body"] and "subject" not in ev:
            if "state" not in ev:
                return
            ev["event"] = "muc_chatstate"
        out(ev)

    def on_muc_presence(self, pres):
        room = pres["from"].bare
        if room not in self.rooms and room not in self.joining:
            return
        x = pres.xml
        nick = pres["from"].resource
        if pres["type"] == "error":
            cond, text = error_of(x)
            err = x.find("{jabber:client}error")
            etype = err.get("type", "") if err is not None else ""
            ev = {"event": "muc_join_error", "room": room, "nick": nick, "condition": cond, "type": etype, "text": text}
            out(ev)
            fut = self.joining.pop(room, None)
            if fut is not None and not fut.done():
                fut.set_result(ev)
            if self.rooms.get(room) == nick:
                del self.rooms[room]
            return
        user = x.find("{%s}x" % NS_MUC_USER)
        if user is None:
            return
        codes = sorted(int(s.get("code", "0")) for s in user.findall("{%s}status" % NS_MUC_USER))
        ev = {"event": "occupant", "room": room, "nick": nick,
              "type": "unavailable" if pres["type"] == "unavailable" else "available",
              "codes": codes, "self": 110 in codes}
        item = user.find("{%s}item" % NS_MUC_USER)
        if item is not None:
            ev["role"], ev["affiliation"] = item.get("role", ""), item.get("affiliation", "")
            if item.get("jid"):
                ev["jid"] = item.get("jid")
            if item.get("nick"):
                ev["new_nick"] = item.get("nick")
            ev["reason"] = text_of(item, "{%s}reason" % NS_MUC_USER)
            actor = item.find("{%s}actor" % NS_MUC_USER)
            if actor is not None:
                ev["actor"] = actor.get("nick", "") or actor.get("jid", "")
        occ = x.find("{%s}occupant-id" % NS_OCCUPANT_ID)
        if occ is not None:
            ev["occupant_id"] = occ.get("id", "")
        out(ev)
        if 110 in codes:
            if pres["type"] == "unavailable":
                if 303 in codes and ev.get("new_nick"):
                    self.rooms[room] = ev["new_nick"]
                else:
                    self.rooms.pop(room, None)
            else:
                self.rooms[room] = nick
                fut = self.joining.pop(room, None)
                if fut is not None and not fut.done():
                    fut.set_result(ev)

    async def join(self, c):
        room, nick = c["room"], c["nick"]
        p = self.make_presence(pto="%s/%s" % (room, nick))
        x = ET.SubElement(p.xml, "{%s}x" % NS_MUC)
        if c.get("password") is not None:
            ET.SubElement(x, "{%s}password" % NS_MUC).text = c["password"]
        if c.get("maxstanzas") is not None:
            ET.SubElement(x, "{%s}history" % NS_MUC, {"maxstanzas": str(c["maxstanzas"])})
        fut = asyncio.get_event_loop().create_future()
        self.joining[room] = fut
        self.rooms[room] = nick
        p.send()
        ev = await asyncio.wait_for(fut, 60)
        if ev["event"] == "muc_join_error":
            return "join refused: " + ev["condition"]
        if 201 in ev["codes"]:
            # A new room stays locked until its owner configures it.
            if c.get("config") is not None:
                await self.configure(room, c["config"])
            else:
                await self.submit_config(room, [])
        return None

    async def configure(self, room, config):
        form = await self.plugin["xep_0045"].get_room_config(room)
        offered = {f.get("var"): f.get("type", "") for f in form.xml.findall("{jabber:x:data}field")}
        values = []
        for k, v in config.items():
            if k == "fields":
                values.extend(v.items())
                continue
            if k not in CONFIG_FIELDS:
                raise ValueError("unknown room setting %r" % k)
            values.append((CONFIG_FIELDS[k], v))
        if config.get("password") and "muc#roomconfig_passwordprotectedroom" in offered:
            # XEP-0045 §10.2 has a switch of its own for the password:
            # ejabberd asks for no password until it is on; Prosody 0.12's
            # form has no such field (the secret alone protects a room).
            values.append(("muc#roomconfig_passwordprotectedroom", True))
        for var, _ in values:
            if var not in offered:
                raise ValueError("the room does not offer the setting %s" % var)
        await self.submit_config(room, values)

    async def submit_config(self, room, values):
        iq = self.make_iq_set(ito=room)
        q = ET.SubElement(iq.xml, "{%s}query" % NS_MUC_OWNER)
        form = ET.SubElement(q, "{jabber:x:data}x", {"type": "submit"})
        if values:
            f = ET.SubElement(form, "{jabber:x:data}field", {"var": "FORM_TYPE"})
            ET.SubElement(f, "{jabber:x:data}value").text = NS_MUC + "#roomconfig"
        for var, v in values:
            f = ET.SubElement(form, "{jabber:x:data}field", {"var": var})
            if isinstance(v, bool):
                v = "1" if v else "0"
            for one in (v if isinstance(v, list) else [v]):
                ET.SubElement(f, "{jabber:x:data}value").text = str(one)
        await iq.send(timeout=60)

    def groupchat(self, c):
        m = self.make_message(mto=c["room"], mbody=c.get("body"), mtype="groupchat")
        if c.get("id"):
            m["id"] = c["id"]
        if c.get("origin_id"):
            ET.SubElement(m.xml, "{%s}origin-id" % NS_SID, {"id": c["origin_id"]})
        if c.get("replace"):
            ET.SubElement(m.xml, "{%s}replace" % NS_CORRECT, {"id": c["replace"]})
        m.send()

    async def muc_command(self, cmd, c):
        muc = self.plugin["xep_0045"]
        if cmd == "join":
            return await self.join(c)
        if cmd == "leave":
            room = c["room"]
            p = self.make_presence(pto="%s/%s" % (room, self.rooms.get(room, "")), ptype="unavailable", pstatus=c.get("status"))
            p.send()
        elif cmd == "groupchat":
            self.groupchat(c)
        elif cmd == "nick":
            self.make_presence(pto="%s/%s" % (c["room"], c["nick"])).send()
        elif cmd == "subject":
            muc.set_subject(c["room"], c["subject"])
        elif cmd == "kick":
            await muc.set_role(c["room"], c["nick"], "none", reason=c.get("reason", ""), timeout=60)
        elif cmd == "role":
            await muc.set_role(c["room"], c["nick"], c["role"], reason=c.get("reason", ""), timeout=60)
        elif cmd == "ban":
            await muc.set_affiliation(c["room"], "outcast", jid=c["jid"], reason=c.get("reason", ""), timeout=60)
        elif cmd == "affiliation":
            await muc.set_affiliation(c["room"], c["affiliation"], jid=c["jid"], reason=c.get("reason", ""), timeout=60)
        elif cmd == "configure":
            await self.configure(c["room"], c["config"])
        elif cmd == "invite":
            muc.invite(c["room"], c["to"], c.get("reason", ""))
        elif cmd == "direct_invite":
            self.plugin["xep_0249"].send_invitation(c["to"], c["room"], password=c.get("password"), reason=c.get("reason"))
        elif cmd == "muc_pm":
            m = self.make_message(mto="%s/%s" % (c["room"], c["nick"]), mbody=c["body"], mtype="chat")
            ET.SubElement(m.xml, "{%s}x" % NS_MUC_USER)
            m.send()
        elif cmd == "moderate":
            iq = self.make_iq_set(ito=c["room"])
            apply = ET.SubElement(iq.xml, "{%s}apply-to" % NS_FASTEN, {"id": c["stanza_id"]})
            mod = ET.SubElement(apply, "{%s}moderate" % NS_MODERATE)
            ET.SubElement(mod, "{%s}retract" % NS_RETRACT)
            if c.get("reason"):
                ET.SubElement(mod, "{%s}reason" % NS_MODERATE).text = c["reason"]
            await iq.send(timeout=60)
        elif cmd == "muc_state":
            m = self.make_message(mto=c["room"], mtype="groupchat")
            m["chat_state"] = c["state"]
            m.send()
        return None

    def on_chatstate(self, msg):
        out({"event": "chatstate", "from": str(msg["from"]), "state": msg["chat_state"]})

    async def commands(self):
        loop = asyncio.get_event_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                self.disconnect()
                return
            c = json.loads(line)
            cmd = c["cmd"]
            if cmd == "send":
                m = self.make_message(mto=c["to"], mbody=c.get("body"), mtype="chat")
                if c.get("state"):
                    m["chat_state"] = c["state"]
                if c.get("id"):
                    m["id"] = c["id"]
                if c.get("receipt"):
                    m["request_receipt"] = True
                if c.get("markable"):
                    m["markable"] = True
                m.send()
            elif cmd == "state":
                m = self.make_message(mto=c["to"], mtype="chat")
                m["chat_state"] = c["state"]
                m.send()
            elif cmd in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
                self.send_presence(pto=c["to"], ptype=cmd)
            elif cmd == "presence":
                self.send_presence(pshow=c.get("show"), pstatus=c.get("status"), ppriority=c.get("priority", 0))
            elif cmd == "displayed":
                self.plugin["xep_0333"].send_marker(c["to"], c["id"], "displayed")
            elif cmd == "react":
                m = self.make_message(mto=c["to"], mtype=c.get("type", "chat"))
                self.plugin["xep_0444"].set_reactions(m, c["id"], c["values"])
                m.enable("store")
                m.send()
            elif cmd == "retract":
                self.plugin["xep_0424"].send_retraction(c["to"], c["id"], mtype=c.get("type", "chat"))
            elif cmd == "reply":
                # As slixmpp-based clients (poezio) send a reply: the quote
                # in front of the body, marked as a fallback.
                quote = "> %s\n" % c["quote"]
                m = self.make_message(mto=c["to"], mbody=quote + c["body"], mtype=c.get("type", "chat"))
                m["reply"]["id"] = c["id"]
                m["reply"]["to"] = c.get("reply_to", "")
                m["feature_fallback"]["for"] = NS_REPLY
                m["feature_fallback"]["fallback_body"]["start"] = "0"
                m["feature_fallback"]["fallback_body"]["end"] = str(len(quote))
                m.send()
            elif cmd == "oob":
                m = self.make_message(mto=c["to"], mbody=c["url"], mtype=c.get("type", "chat"))
                m["oob"]["url"] = c["url"]
                if c.get("desc"):
                    m["oob"]["desc"] = c["desc"]
                m.send()
            elif cmd == "raw":
                self.send_raw(c["xml"])
            elif cmd in OMEMO_COMMANDS or cmd in AESGCM_COMMANDS:
                try:
                    if cmd in AESGCM_COMMANDS:
                        res = await self.aesgcm_command(cmd, c)
                    else:
                        res = await self.omemo_command(cmd, c)
                    err = None
                except Exception as e:  # reported to the test, which decides
                    res, err = None, "%s: %s" % (type(e).__name__, describe(e))
                done = {"event": "done", "cmd": cmd, "tag": c.get("tag", "")}
                if err:
                    done["error"] = err
                if res:
                    done.update(res)
                out(done)
                continue
            elif cmd == "quit":
                self.disconnect()
                return
            elif cmd in MUC_COMMANDS:
                try:
                    err = await self.muc_command(cmd, c)
                except Exception as e:  # reported to the test, which decides
                    err = "%s: %s" % (type(e).__name__, describe(e))
                done = {"event": "done", "cmd": cmd, "tag": c.get("tag", "")}
                if err:
                    done["error"] = err
                out(done)
                continue
            out({"event": "done", "cmd": cmd, "tag": c.get("tag", "")})


OMEMO_COMMANDS = ("omemo_enable", "omemo_send", "omemo_devices", "omemo_bundle", "omemo_publish_list")

MUC_COMMANDS = ("join", "leave", "groupchat", "nick", "subject", "kick", "role", "ban", "affiliation",
                "configure", "invite", "direct_invite", "muc_pm", "muc_state", "moderate")


def omemo_element(x):
    """The <encrypted/> element of a message, OMEMO 2's first, or None."""
    e = x.find("{%s}encrypted" % NS_OMEMO2)
    return e if e is not None else x.find("{%s}encrypted" % NS_OMEMO03)


def add_oob(ev, x):
    """Adds the URL of an XEP-0066 out-of-band element, as "oob"."""
    url = x.find("{jabber:x:oob}x/{jabber:x:oob}url")
    if url is not None:
        ev["oob"] = url.text or ""


def text_of(el, tag):
    c = el.find(tag)
    return (c.text or "") if c is not None else ""


def error_of(x):
    """The defined condition and text of a stanza's <error/>."""
    err = x.find("{jabber:client}error")
    cond, text = "", ""
    if err is not None:
        for c in err:
            if c.tag.startswith("{%s}" % NS_STANZAS):
                name = c.tag.split("}")[1]
                if name == "text":
                    text = c.text or ""
                else:
                    cond = name
    return cond, text


def describe(e):
    """The error condition of an IqError, or the exception's text."""
    iq = getattr(e, "iq", None)
    if iq is not None:
        return iq["error"]["condition"] + (" " + iq["error"]["text"] if iq["error"]["text"] else "")
    return str(e)


class OMEMOPeer:
    """The OMEMO side of the peer: python3-omemo's SessionManager over
    slixmpp, with its bundles and device lists in PEP and everything kept in
    memory (a new device each run)."""

    def __init__(self, xmpp):
        self.xmpp = xmpp
        self.sm = None

    async def enable(self, versions):
        import omemo
        import oldmemo
        import oldmemo.etree
        import twomemo
        import twomemo.etree

        peer = self

        class MemoryStorage(omemo.Storage):
            def __init__(self):
                super().__init__(True)
                self.data = {}

            async def _load(self, key):
                return omemo.Just(self.data[key]) if key in self.data else omemo.Nothing()

            async def _store(self, key, value):
                self.data[key] = value

            async def _delete(self, key):
                self.data.pop(key, None)

        class SessionManager(omemo.SessionManager):
            @staticmethod
            async def _upload_bundle(bundle):
                if isinstance(bundle, oldmemo.oldmemo.BundleImpl):
                    await peer.publish("%s.bundles:%d" % (NS_OMEMO03, bundle.device_id), "current",
                                       oldmemo.etree.serialize_bundle(bundle), {"pubsub#access_model": "open"})
                else:
                    await peer.publish(NS_OMEMO2_BUNDLES, str(bundle.device_id), twomemo.etree.serialize_bundle(bundle),
                                       {"pubsub#access_model": "open", "pubsub#max_items": "max"})

            @staticmethod
            async def _download_bundle(namespace, bare_jid, device_id):
                if namespace == NS_OMEMO03:
                    items = await peer.items(bare_jid, "%s.bundles:%d" % (NS_OMEMO03, device_id))
                    if not items:
                        raise omemo.BundleNotFound("no bundle for %s/%d" % (bare_jid, device_id))
                    el = items[-1].find("{%s}bundle" % NS_OMEMO03)
                    return oldmemo.etree.parse_bundle(el, bare_jid, device_id)
                items = await peer.items(bare_jid, NS_OMEMO2_BUNDLES, str(device_id))
                items = [i for i in items if i.get("id") == str(device_id)]
                if not items:
                    raise omemo.BundleNotFound("no bundle for %s/%d" % (bare_jid, device_id))
                return twomemo.etree.parse_bundle(items[-1].find("{%s}bundle" % NS_OMEMO2), bare_jid, device_id)

            @staticmethod
            async def _delete_bundle(namespace, device_id):
                pass  # an in-memory device: nothing to clean up after

            @staticmethod
            async def _upload_device_list(namespace, device_list):
                await peer.publish_list(namespace, device_list)

            @staticmethod
            async def _download_device_list(namespace, bare_jid):
                node = NS_OMEMO03_LIST if namespace == NS_OMEMO03 else NS_OMEMO2_DEVICES
                items = await peer.items(bare_jid, node)
                if not items:
                    return {}
                return peer.parse_list(namespace, items[-1])

            async def _evaluate_custom_trust_level(self, device):
                return omemo.TrustLevel.TRUSTED  # blind trust: a test peer

            async def _make_trust_decision(self, undecided, identifier):
                for d in undecided:
                    await self.set_trust(d.bare_jid, d.identity_key, "blind")

            @staticmethod
            async def _send_message(message, bare_jid):
                peer.send_encrypted(message, bare_jid, None)

        self.oldmemo, self.twomemo = oldmemo, twomemo
        # Device list changes of everyone seen (XEP-0163 +notify): the
        # peer's presence carries capabilities from now on.
        for ns in (NS_OMEMO03_LIST, NS_OMEMO2_DEVICES):
            self.xmpp.plugin["xep_0030"].add_feature(ns + "+notify")
        await self.xmpp.plugin["xep_0115"].update_caps()
        storage = MemoryStorage()
        backends = []
        for v in versions:
            backends.append(oldmemo.Oldmemo(storage) if v == "0.3" else twomemo.Twomemo(storage))
        self.sm = await SessionManager.create(backends, storage, self.xmpp.boundjid.bare, "gab test peer", "blind")
        own, _ = await self.sm.get_own_device_information()
        return {"device_id": own.device_id}

    def parse_list(self, namespace, item):
        if namespace == NS_OMEMO03:
            el = item.find("{%s}list" % NS_OMEMO03)
            return self.oldmemo.etree.parse_device_list(el)
        return self.twomemo.etree.parse_device_list(item.find("{%s}devices" % NS_OMEMO2))

    async def publish_list(self, namespace, device_list):
        if namespace == NS_OMEMO03:
            await self.publish(NS_OMEMO03_LIST, "current", self.oldmemo.etree.serialize_device_list(device_list),
                               {"pubsub#access_model": "open"})
        else:
            await self.publish(NS_OMEMO2_DEVICES, "current", self.twomemo.etree.serialize_device_list(device_list),
                               {"pubsub#access_model": "open"})

    async def items(self, jid, node, item_id=None):
        """The items of a PEP node: none when it does not exist."""
        iq = self.xmpp.make_iq_get(ito=jid)
        ps = ET.SubElement(iq.xml, "{%s}pubsub" % NS_PUBSUB)
        its = ET.SubElement(ps, "{%s}items" % NS_PUBSUB, {"node": node})
        if item_id is not None:
            ET.SubElement(its, "{%s}item" % NS_PUBSUB, {"id": item_id})
        try:
            res = await iq.send(timeout=60)
        except slixmpp.exceptions.IqError as e:
            if e.iq["error"]["condition"] == "item-not-found":
                return []
            raise
        got = res.xml.find("{%s}pubsub/{%s}items" % (NS_PUBSUB, NS_PUBSUB))
        return [] if got is None else got.findall("{%s}item" % NS_PUBSUB)

    async def publish(self, node, item_id, payload, options):
        """Publishes with publish-options, configuring the node when they
        are not met (XEP-0060 precondition-not-met)."""
        def form(form_type):
            x = ET.Element("{%s}x" % NS_FORMS, {"type": "submit"})
            f = ET.SubElement(x, "{%s}field" % NS_FORMS, {"var": "FORM_TYPE", "type": "hidden"})
            ET.SubElement(f, "{%s}value" % NS_FORMS).text = form_type
            for k, v in options.items():
                f = ET.SubElement(x, "{%s}field" % NS_FORMS, {"var": k})
                ET.SubElement(f, "{%s}value" % NS_FORMS).text = v
            return x

        async def once():
            iq = self.xmpp.make_iq_set()
            ps = ET.SubElement(iq.xml, "{%s}pubsub" % NS_PUBSUB)
            pub = ET.SubElement(ps, "{%s}publish" % NS_PUBSUB, {"node": node})
            ET.SubElement(pub, "{%s}item" % NS_PUBSUB, {"id": item_id}).append(payload)
            ET.SubElement(ps, "{%s}publish-options" % NS_PUBSUB).append(form(NS_PUBSUB + "#publish-options"))
            await iq.send(timeout=60)
        try:
            await once()
        except slixmpp.exceptions.IqError as e:
            if e.iq.xml.find("{jabber:client}error/{%s}precondition-not-met" % NS_PUBSUB_ERRORS) is None:
                raise
            iq = self.xmpp.make_iq_set()
            ps = ET.SubElement(iq.xml, "{%s}pubsub" % NS_PUBSUB_OWNER)
            ET.SubElement(ps, "{%s}configure" % NS_PUBSUB_OWNER, {"node": node}).append(form(NS_PUBSUB + "#node_config"))
            await iq.send(timeout=60)
            await once()

    def send_encrypted(self, message, bare_jid, body):
        """Sends one python-omemo Message as Conversations does."""
        if message.namespace == NS_OMEMO03:
            el = self.oldmemo.etree.serialize_message(message)
        else:
            el = self.twomemo.etree.serialize_message(message)
        m = self.xmpp.make_message(mto=bare_jid, mtype="chat")
        m.xml.append(el)
        ET.SubElement(m.xml, "{%s}encryption" % NS_EME, {"namespace": message.namespace, "name": "OMEMO"})
        ET.SubElement(m.xml, "{%s}store" % NS_HINTS)
        if body:
            ET.SubElement(m.xml, "{jabber:client}body").text = OMEMO_FALLBACK
        m.send()

    async def send(self, to, body, version, address=None):
        ns = OMEMO_VERSIONS[version]
        if ns == NS_OMEMO2:
            # XEP-0420: the content in an envelope.
            env = ET.Element("{%s}envelope" % NS_SCE)
            content = ET.SubElement(env, "{%s}content" % NS_SCE)
            ET.SubElement(content, "{jabber:client}body").text = body
            ET.SubElement(env, "{%s}rpad" % NS_SCE).text = "pad"
            ET.SubElement(env, "{%s}from" % NS_SCE, {"jid": self.xmpp.boundjid.bare})
            plain = ET.tostring(env)
        else:
            plain = body.encode("utf-8")
        # The recipient's list as it is now (a notification may have come
        # before python-omemo was ready for it).
        await self.sm.refresh_device_list(ns, to)
        messages, errors = await self.sm.encrypt(frozenset([to]), {ns: plain}, backend_priority_order=[ns])
        sent = 0
        for message in messages:
            if message.namespace == ns:
                self.send_encrypted(message, address or to, body)
                sent += 1
        return {"sent": sent, "errors": [str(e) for e in errors]}

    async def decrypt(self, msg, el):
        sender = msg["from"].bare
        ns = el.tag.split("}")[0][1:]
        ev = {"event": "omemo_message", "from": str(msg["from"]), "ns": ns, "id": msg["id"]}
        try:
            if ns == NS_OMEMO03:
                message = await self.oldmemo.etree.parse_message(el, sender, self.xmpp.boundjid.bare, self.sm)
            else:
                message = self.twomemo.etree.parse_message(el, sender)
            plain, device, _ = await self.sm.decrypt(message)
            ev["sid"] = device.device_id
            if plain is None:
                ev["empty"] = True
            elif ns == NS_OMEMO03:
                ev["body"] = plain.decode("utf-8")
            else:
                env = ET.fromstring(plain)
                ev["body"] = text_of(env, "{%s}content/{jabber:client}body" % NS_SCE)
                ev.update(envelope_affixes(env))
        except Exception as e:  # reported to the test, which decides
            ev["error"] = "%s: %s" % (type(e).__name__, e)
        out(ev)

    async def on_event(self, msg, items, namespace):
        """A device list notification: reported, and told to python-omemo."""
        its = items.findall("{%s}item" % NS_PUBSUB_EVENT)
        ev = {"event": "omemo_devices", "from": str(msg["from"]), "ns": namespace}
        try:
            devices = {}
            if its:
                el = its[-1].find("{%s}list" % NS_OMEMO03) if namespace == NS_OMEMO03 else its[-1].find("{%s}devices" % NS_OMEMO2)
                if namespace == NS_OMEMO03:
                    devices = self.oldmemo.etree.parse_device_list(el)
                else:
                    devices = self.twomemo.etree.parse_device_list(el)
            ev["devices"] = sorted(devices)
            ev["labels"] = {str(k): v for k, v in devices.items() if v}
            if self.sm is not None:
                await self.sm.update_device_list(namespace, msg["from"].bare, devices)
        except Exception as e:
            ev["error"] = "%s: %s" % (type(e).__name__, e)
        out(ev)


async def omemo_command(self, cmd, c):
    o = self.omemo
    if cmd == "omemo_enable":
        if o is None:
            o = self.omemo = OMEMOPeer(self)
        return await o.enable(c.get("versions", ["0.3", "2"]))
    if o is None or o.sm is None:
        raise RuntimeError("OMEMO is not enabled")
    if cmd == "omemo_send":
        return await o.send(c["to"], c["body"], c.get("version", "0.3"), c.get("address"))
    if cmd == "omemo_devices":
        ns = OMEMO_VERSIONS[c.get("version", "0.3")]
        node = NS_OMEMO03_LIST if ns == NS_OMEMO03 else NS_OMEMO2_DEVICES
        items = await o.items(c["jid"], node)
        devices = o.parse_list(ns, items[-1]) if items else {}
        return {"devices": sorted(devices), "labels": {str(k): v for k, v in devices.items() if v}}
    if cmd == "omemo_bundle":
        ns = OMEMO_VERSIONS[c.get("version", "0.3")]
        await o.sm.refresh_device_list(ns, c["jid"])
        bundle = await o.sm._download_bundle(ns, c["jid"], int(c["device"]))
        return {"prekeys": len(bundle.pre_key_ids), "identity_key": base64.b64encode(bundle.identity_key).decode("ascii")}
    if cmd == "omemo_publish_list":
        # A list as given, however it looks: for tests of what gab makes of it.
        ns = OMEMO_VERSIONS[c.get("version", "0.3")]
        await o.publish_list(ns, {int(d): None for d in c["devices"]})
        return None
    raise ValueError("unknown OMEMO command " + cmd)


def on_omemo(self, msg):
    """Encrypted messages and device list notifications."""
    x = msg.xml
    ev = x.find("{%s}event" % NS_PUBSUB_EVENT)
    if ev is not None:
        for items in ev.findall("{%s}items" % NS_PUBSUB_EVENT):
            node = items.get("node", "")
            if node in (NS_OMEMO03_LIST, NS_OMEMO2_DEVICES):
                o = self.omemo or OMEMOPeer(self)
                if o.sm is None:
                    out({"event": "omemo_devices", "from": str(msg["from"]), "ns": NS_OMEMO03 if node == NS_OMEMO03_LIST else NS_OMEMO2,
                         "devices": sorted(int(d.get("id", "0")) for d in items.iter() if d.tag.endswith("}device"))})
                    continue
                asyncio.ensure_future(o.on_event(msg, items, NS_OMEMO03 if node == NS_OMEMO03_LIST else NS_OMEMO2))
        return
    el = omemo_element(x)
    if el is None or msg["type"] == "error":
        return
    if self.omemo is None or self.omemo.sm is None:
        out({"event": "omemo_message", "from": str(msg["from"]), "error": "OMEMO is not enabled"})
        return
    asyncio.ensure_future(self.omemo.decrypt(msg, el))


Peer.omemo_command = omemo_command
Peer.on_omemo = on_omemo


# ---------------------------------------------------------------------------
# Encrypted file sharing (XEP-0454, aesgcm:// links), for gab's tests: the
# peer encrypts and uploads a file and gives its link (to send with
# omemo_send), and fetches and decrypts a link it was sent. AES-GCM from
# the cryptography package (Debian python3-cryptography); HTTPS trusting
# the test server's certificate.
NS_UPLOAD = "urn:xmpp:http:upload:0"


def aesgcm_https(ctx, method, url, data=None, headers=None):
    import urllib.request
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, context=ctx, timeout=60) as res:
        return res.status, res.read()


async def aesgcm_command(self, cmd, c):
    import hashlib
    import os
    import ssl
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    ctx = ssl.create_default_context(cafile=self.ca_certs)
    loop = asyncio.get_event_loop()
    if cmd == "aesgcm_upload":
        # {"data": hex, "name": ..., "service": JID, "iv_size": 12 or 16}
        plain = bytes.fromhex(c["data"])
        key, iv = os.urandom(32), os.urandom(int(c.get("iv_size", 12)))
        ct = AESGCM(key).encrypt(iv, plain, None)
        iq = self.make_iq_get(ito=c["service"])
        ET.SubElement(iq.xml, "{%s}request" % NS_UPLOAD, {"filename": c["name"], "size": str(len(ct)),
                                                         "content-type": "application/octet-stream"})
        res = await iq.send(timeout=60)
        slot = res.xml.find("{%s}slot" % NS_UPLOAD)
        put = slot.find("{%s}put" % NS_UPLOAD)
        get = slot.find("{%s}get" % NS_UPLOAD).get("url")
        headers = {h.get("name"): h.text or "" for h in put.findall("{%s}header" % NS_UPLOAD)}
        headers["Content-Type"] = "application/octet-stream"
        status, _ = await loop.run_in_executor(None, aesgcm_https, ctx, "PUT", put.get("url"), ct, headers)
        if status not in (200, 201):
            raise RuntimeError("PUT answered %d" % status)
        return {"link": "aesgcm://" + get[len("https://"):] + "#" + iv.hex() + key.hex()}
    if cmd == "aesgcm_fetch":
        # {"url": "aesgcm://..."}: the file's size and SHA-256, decrypted.
        url, frag = c["url"].split("#", 1)
        if not url.startswith("aesgcm://") or len(frag) not in (88, 96):
            raise ValueError("not an aesgcm link")
        secret = bytes.fromhex(frag)
        iv, key = secret[:-32], secret[-32:]
        status, ct = await loop.run_in_executor(None, aesgcm_https, ctx, "GET", "https://" + url[len("aesgcm://"):])
        plain = AESGCM(key).decrypt(iv, ct, None)
        return {"size": len(plain), "sha256": hashlib.sha256(plain).hexdigest(), "iv_size": len(iv)}
    raise ValueError("unknown aesgcm command " + cmd)


AESGCM_COMMANDS = ("aesgcm_upload", "aesgcm_fetch")
Peer.aesgcm_command = aesgcm_command
# End of encrypted file sharing.
# ---------------------------------------------------------------------------


# --- OMEMO 2 envelopes (XEP-0420) -------------------------------------------
# What the OMEMO 2 tests need beyond the OMEMO block above: the affixes of
# an envelope the peer decrypts are reported (sce_from, sce_to, sce_time,
# rpad), and "omemo2_send" encrypts an envelope whose <from/> and <to/> the
# test chooses ("env_from", "env_to": a JID, or "" to leave the affix out;
# by default the peer and the recipient), to show what gab does with an
# envelope that names someone else.

def envelope_affixes(env):
    out = {}
    for name, key in (("from", "sce_from"), ("to", "sce_to")):
        el = env.find("{%s}%s" % (NS_SCE, name))
        if el is not None:
            out[key] = el.get("jid", "")
    t = env.find("{%s}time" % NS_SCE)
    if t is not None:
        out["sce_time"] = t.get("stamp", "")
    rpad = env.find("{%s}rpad" % NS_SCE)
    if rpad is not None:
        out["rpad"] = len(rpad.text or "")
    return out


async def omemo2_send(self, c):
    o = self.omemo
    if o is None or o.sm is None:
        raise RuntimeError("OMEMO is not enabled")
    to = c["to"]
    env_from = c.get("env_from", self.boundjid.bare)
    env_to = c.get("env_to", to)
    env = ET.Element("{%s}envelope" % NS_SCE)
    content = ET.SubElement(env, "{%s}content" % NS_SCE)
    ET.SubElement(content, "{jabber:client}body").text = c["body"]
    ET.SubElement(env, "{%s}rpad" % NS_SCE).text = "padding"
    if env_to:
        ET.SubElement(env, "{%s}to" % NS_SCE, {"jid": env_to})
    if env_from:
        ET.SubElement(env, "{%s}from" % NS_SCE, {"jid": env_from})
    await o.sm.refresh_device_list(NS_OMEMO2, to)
    messages, errors = await o.sm.encrypt(frozenset([to]), {NS_OMEMO2: ET.tostring(env)}, backend_priority_order=[NS_OMEMO2])
    sent = 0
    for message in messages:
        if message.namespace == NS_OMEMO2:
            o.send_encrypted(message, c.get("address") or to, c["body"])
            sent += 1
    return {"sent": sent, "errors": [str(e) for e in errors]}


_omemo_command_before_2 = omemo_command


async def omemo_command_with_2(self, cmd, c):
    if cmd == "omemo2_send":
        return await omemo2_send(self, c)
    return await _omemo_command_before_2(self, cmd, c)


OMEMO_COMMANDS = OMEMO_COMMANDS + ("omemo2_send",)
Peer.omemo_command = omemo_command_with_2

# A device enabled without OMEMO 2 reads the 0.3 element of a message
# that carries both versions' elements, as clients that know only 0.3 do.
_enable_before_2 = OMEMOPeer.enable
_decrypt_before_2 = OMEMOPeer.decrypt


async def enable_noting_versions(self, versions):
    self.versions = list(versions)
    return await _enable_before_2(self, versions)


async def decrypt_in_its_versions(self, msg, el):
    if el.tag == "{%s}encrypted" % NS_OMEMO2 and "2" not in getattr(self, "versions", ["2"]):
        alt = msg.xml.find("{%s}encrypted" % NS_OMEMO03)
        if alt is not None:
            el = alt
    return await _decrypt_before_2(self, msg, el)


OMEMOPeer.enable = enable_noting_versions
OMEMOPeer.decrypt = decrypt_in_its_versions
# --- end of OMEMO 2 envelopes -----------------------------------------------


# OMEMO in rooms (non-anonymous, members-only), as Conversations does it:
# a groupchat message encrypted once to every device of every member (their
# real bare JIDs, from the occupants' presences, plus any the test names),
# and encrypted groupchat messages decrypted in the session with the real
# JID of the occupant that sent them.
#
#   {"cmd": "omemo_groupchat", "room": R, "body": B, "members": [JIDs], "version": "0.3"}
#       done has "sent", "errors", "origin_id" and "to" (the bare JIDs encrypted to)
#
# events: {"event": "omemo_groupchat", "room", "nick", "jid", "sid", "body", "id",
# "origin_id", "rids" (the devices it has a key for)} for each one decrypted ("error" when it could not be, "own": true for
# our own reflected message, which has no key for this device).

import os  # noqa: E402 (this block's own)

OMEMO_COMMANDS = OMEMO_COMMANDS + ("omemo_groupchat",)

_plain_muc_presence = Peer.on_muc_presence
_plain_omemo_command = Peer.omemo_command
_plain_on_omemo = Peer.on_omemo


def room_on_muc_presence(self, pres):
    """Keeps each occupant's real bare JID, by room and nick."""
    room = pres["from"].bare
    if room in self.rooms and pres["type"] != "error":
        user = pres.xml.find("{%s}x" % NS_MUC_USER)
        item = user.find("{%s}item" % NS_MUC_USER) if user is not None else None
        real = getattr(self, "room_real", None)
        if real is None:
            real = self.room_real = {}
        occupants = real.setdefault(room, {})
        nick = pres["from"].resource
        if pres["type"] == "unavailable":
            occupants.pop(nick, None)
        elif item is not None and item.get("jid"):
            occupants[nick] = slixmpp.JID(item.get("jid")).bare
    return _plain_muc_presence(self, pres)


async def room_omemo_command(self, cmd, c):
    if cmd != "omemo_groupchat":
        return await _plain_omemo_command(self, cmd, c)
    o = self.omemo
    if o is None or o.sm is None:
        raise RuntimeError("OMEMO is not enabled")
    room = c["room"]
    me = self.boundjid.bare
    members = set(getattr(self, "room_real", {}).get(room, {}).values()) | set(c.get("members", []))
    members.discard(me)
    ns = OMEMO_VERSIONS[c.get("version", "0.3")]
    for j in members:
        await o.sm.refresh_device_list(ns, j)
    plain = c["body"].encode("utf-8")
    if ns == NS_OMEMO2:
        # OMEMO 2 seals the body in an envelope addressed to the room
        # ("env_to" another address, to show what gab does with it).
        env = ET.Element("{%s}envelope" % NS_SCE)
        content = ET.SubElement(env, "{%s}content" % NS_SCE)
        ET.SubElement(content, "{jabber:client}body").text = c["body"]
        ET.SubElement(env, "{%s}rpad" % NS_SCE).text = "padding"
        ET.SubElement(env, "{%s}to" % NS_SCE, {"jid": c.get("env_to", room)})
        ET.SubElement(env, "{%s}from" % NS_SCE, {"jid": me})
        plain = ET.tostring(env)
    messages, errors = await o.sm.encrypt(frozenset(members), {ns: plain}, backend_priority_order=[ns])
    sent, origin = 0, "peer-" + base64.b32encode(os.urandom(5)).decode("ascii").lower()
    for message in messages:
        if message.namespace != ns:
            continue
        el = o.oldmemo.etree.serialize_message(message) if ns == NS_OMEMO03 else o.twomemo.etree.serialize_message(message)
        m = self.make_message(mto=room, mtype="groupchat")
        m["id"] = origin
        m.xml.append(el)
        for x in c.get("extra", []):
            # What a hostile occupant adds (tests of what gab believes).
            m.xml.append(ET.fromstring(x))
        ET.SubElement(m.xml, "{%s}encryption" % NS_EME, {"namespace": ns, "name": "OMEMO"})
        ET.SubElement(m.xml, "{%s}store" % NS_HINTS)
        ET.SubElement(m.xml, "{%s}origin-id" % NS_SID, {"id": origin})
        ET.SubElement(m.xml, "{jabber:client}body").text = OMEMO_FALLBACK
        m.send()
        sent += 1
    return {"sent": sent, "errors": [str(e) for e in errors], "origin_id": origin, "to": sorted(members)}


async def room_decrypt(self, msg, el):
    room, nick = msg["from"].bare, msg["from"].resource
    ev = {"event": "omemo_groupchat", "room": room, "nick": nick, "id": msg["id"]}
    oid = msg.xml.find("{%s}origin-id" % NS_SID)
    if oid is not None:
        ev["origin_id"] = oid.get("id", "")
    ev["rids"] = sorted(int(k.get("rid", "0")) for k in el.iter() if k.tag.endswith("}key"))
    alt = msg.xml.find("{%s}encrypted" % NS_OMEMO03)
    if alt is not None and alt is not el:
        # The 0.3 element beside the OMEMO 2 one: whom it has keys for.
        ev["rids03"] = sorted(int(k.get("rid", "0")) for k in alt.iter() if k.tag.endswith("}key"))
    if self.rooms.get(room) == nick:
        ev["own"] = True
        out(ev)
        return
    sender = getattr(self, "room_real", {}).get(room, {}).get(nick)
    ev["jid"] = sender or ""
    try:
        if sender is None:
            raise RuntimeError("the room did not show this occupant's real JID")
        ns = el.tag.split("}")[0][1:]
        o = self.omemo
        if ns == NS_OMEMO03:
            message = await o.oldmemo.etree.parse_message(el, sender, self.boundjid.bare, o.sm)
        else:
            message = o.twomemo.etree.parse_message(el, sender)
        plain, device, _ = await o.sm.decrypt(message)
        ev["sid"] = device.device_id
        if plain is None:
            ev["empty"] = True
        elif ns == NS_OMEMO03:
            ev["body"] = plain.decode("utf-8")
        else:
            ev["body"] = text_of(ET.fromstring(plain), "{%s}content/{jabber:client}body" % NS_SCE)
    except Exception as e:  # reported to the test, which decides
        ev["error"] = "%s: %s" % (type(e).__name__, e)
    out(ev)


def room_on_omemo(self, msg):
    el = omemo_element(msg.xml)
    if el is not None and msg["type"] == "groupchat":
        if self.omemo is None or self.omemo.sm is None:
            out({"event": "omemo_groupchat", "room": msg["from"].bare, "nick": msg["from"].resource, "error": "OMEMO is not enabled"})
            return
        asyncio.ensure_future(room_decrypt(self, msg, el))
        return
    return _plain_on_omemo(self, msg)


Peer.on_muc_presence = room_on_muc_presence
Peer.omemo_command = room_omemo_command
Peer.on_omemo = room_on_omemo
# --------------------------------------------------------------- end of rooms


def main():
    jid, password, ca, host, port = sys.argv[1:6]
    logging.basicConfig(level=logging.ERROR)
    p = Peer(jid, password, ca)
    p.connect(address=(host, int(port)))
    p.add_event_handler("disconnected", lambda _: out({"event": "disconnected"}))
    p.process(forever=False)


main()

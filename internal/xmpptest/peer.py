# A slixmpp client for gab's tests, driven by JSON lines on stdin; it reports
# what it sees as JSON lines on stdout.
import asyncio
import json
import logging
import sys

import slixmpp


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca):
        super().__init__(jid, password)
        self.ca_certs = ca
        for p in ("xep_0030", "xep_0085", "xep_0115", "xep_0184", "xep_0199", "xep_0203", "xep_0333"):
            self.register_plugin(p)
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
        if msg["type"] in ("chat", "normal") and msg["body"]:
            ev = {"event": "message", "from": str(msg["from"]), "body": msg["body"], "id": msg["id"]}
            out(ev)

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
            elif cmd == "raw":
                self.send_raw(c["xml"])
            elif cmd == "quit":
                self.disconnect()
                return
            out({"event": "done", "cmd": cmd})


def main():
    jid, password, ca, host, port = sys.argv[1:6]
    logging.basicConfig(level=logging.ERROR)
    p = Peer(jid, password, ca)
    p.connect(address=(host, int(port)))
    p.add_event_handler("disconnected", lambda _: out({"event": "disconnected"}))
    p.process(forever=False)


main()

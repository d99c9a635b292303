#!/usr/bin/python3
"""An OMEMO 0.3 peer for gab's interoperation test.

python3-omemo's SessionManager with the python3-oldmemo backend (Debian's
packages; independent of gab's code), on in-memory storage, its PEP stood
in for by dictionaries. Bundles and messages go through python3-oldmemo's
own XML code (oldmemo.etree), so that what gab hands over is read the way
a real client reads it. It speaks JSON lines over stdin/stdout; every
binary value is base64. Commands:

  {"cmd": "init", "own_jid", "peer_jid", "peer_devices": {id: bundle}}
      -> {"device_id", "bundle"}
  {"cmd": "encrypt", "plaintext"}  -> {"message"}
  {"cmd": "decrypt", "message"}    -> {"plaintext"} or {"error"}

A bundle is {"identity_key", "signed_pre_key", "signed_pre_key_id",
"signed_pre_key_signature", "pre_keys": [{"id", "key"}]} with keys in
OMEMO 0.3's 33-byte encoding; a message is {"sid", "keys": [{"rid",
"prekey", "data"}], "iv", "payload"} ("payload" absent for an empty
message). Every reply carries "sent": the messages the peer sent by itself
since the last command (python3-omemo answers a pre-key message with an
empty message). A reply {"error"} reports a refused command; the peer
keeps running.
"""
import asyncio
import base64
import json
import logging
import sys
import traceback
import xml.etree.ElementTree as ET

import omemo
import oldmemo
import oldmemo.etree
from omemo.storage import Just, Nothing, Storage
from omemo.types import TrustLevel

NS = "{eu.siacs.conversations.axolotl}"
b64 = lambda b: base64.b64encode(b).decode("ascii")
unb64 = base64.b64decode

pep_device_lists = {}  # (namespace, jid) -> {device id: label}
pep_bundles = {}       # (namespace, jid, device id) -> XML element
sent = []              # messages sent by the session manager itself


class MemoryStorage(Storage):
    def __init__(self):
        super().__init__()
        self.data = {}

    async def _load(self, key):
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key, value):
        self.data[key] = value

    async def _delete(self, key):
        self.data.pop(key, None)


def message_to_json(element):
    header = element.find(f"{NS}header")
    out = {"sid": int(header.get("sid")), "iv": header.find(f"{NS}iv").text, "keys": [
        {"rid": int(k.get("rid")), "prekey": k.get("prekey") in ("true", "1"), "data": k.text}
        for k in header.iter(f"{NS}key")]}
    payload = element.find(f"{NS}payload")
    if payload is not None:
        out["payload"] = payload.text
    return out


def message_from_json(m):
    enc = ET.Element(f"{NS}encrypted")
    header = ET.SubElement(enc, f"{NS}header", attrib={"sid": str(m["sid"])})
    for k in m["keys"]:
        attrib = {"rid": str(k["rid"])}
        if k["prekey"]:
            attrib["prekey"] = "true"
        ET.SubElement(header, f"{NS}key", attrib=attrib).text = k["data"]
    ET.SubElement(header, f"{NS}iv").text = m["iv"]
    if "payload" in m:
        ET.SubElement(enc, f"{NS}payload").text = m["payload"]
    return enc


def bundle_to_json(element):
    spk = element.find(f"{NS}signedPreKeyPublic")
    return {
        "identity_key": element.find(f"{NS}identityKey").text,
        "signed_pre_key": spk.text,
        "signed_pre_key_id": int(spk.get("signedPreKeyId")),
        "signed_pre_key_signature": element.find(f"{NS}signedPreKeySignature").text,
        "pre_keys": [{"id": int(p.get("preKeyId")), "key": p.text} for p in element.iter(f"{NS}preKeyPublic")],
    }


def bundle_from_json(b):
    el = ET.Element(f"{NS}bundle")
    ET.SubElement(el, f"{NS}signedPreKeyPublic",
                  attrib={"signedPreKeyId": str(b["signed_pre_key_id"])}).text = b["signed_pre_key"]
    ET.SubElement(el, f"{NS}signedPreKeySignature").text = b["signed_pre_key_signature"]
    ET.SubElement(el, f"{NS}identityKey").text = b["identity_key"]
    pks = ET.SubElement(el, f"{NS}prekeys")
    for p in b["pre_keys"]:
        ET.SubElement(pks, f"{NS}preKeyPublic", attrib={"preKeyId": str(p["id"])}).text = p["key"]
    return el


class Peer(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle):
        pep_bundles[(bundle.namespace, bundle.bare_jid, bundle.device_id)] = oldmemo.etree.serialize_bundle(bundle)

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        el = pep_bundles.get((namespace, bare_jid, device_id))
        if el is None:
            raise omemo.BundleDownloadFailed(f"no bundle for {bare_jid}/{device_id}")
        return oldmemo.etree.parse_bundle(el, bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        pep_device_lists[(namespace, OWN[0])] = dict(device_list)

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        return dict(pep_device_lists.get((namespace, bare_jid), {}))

    async def _evaluate_custom_trust_level(self, device):
        return TrustLevel.TRUSTED  # blind trust: the test is about the protocol

    async def _make_trust_decision(self, devices, identifier):
        pass

    @staticmethod
    async def _send_message(message, bare_jid):
        sent.append(message_to_json(oldmemo.etree.serialize_message(message)))


OWN = [None]


async def handle(sm, peer_jid, req):
    cmd = req["cmd"]
    if cmd == "encrypt":
        messages, errors = await sm.encrypt(frozenset([peer_jid]), {oldmemo.oldmemo.NAMESPACE: unb64(req["plaintext"])})
        if errors:
            return {"error": repr(errors)}
        (message,) = messages.keys()
        return {"message": message_to_json(oldmemo.etree.serialize_message(message))}
    if cmd == "decrypt":
        el = message_from_json(req["message"])
        message = await oldmemo.etree.parse_message(el, peer_jid, OWN[0], sm)
        plaintext, _, _ = await sm.decrypt(message)
        return {"plaintext": None if plaintext is None else b64(plaintext)}
    return {"error": f"unknown command {cmd}"}


async def main():
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    lines = (line for line in sys.stdin)
    init = json.loads(next(lines))
    assert init["cmd"] == "init"
    OWN[0], peer_jid = init["own_jid"], init["peer_jid"]
    pep_device_lists[(oldmemo.oldmemo.NAMESPACE, peer_jid)] = {int(i): None for i in init["peer_devices"]}
    for i, b in init["peer_devices"].items():
        pep_bundles[(oldmemo.oldmemo.NAMESPACE, peer_jid, int(i))] = bundle_from_json(b)
    storage = MemoryStorage()
    sm = await Peer.create([oldmemo.Oldmemo(storage)], storage, OWN[0], None, "blind")
    await sm.after_history_sync()  # online, caught up: as a client after its archive sync
    own, _ = await sm.get_own_device_information()
    bundle = pep_bundles[(oldmemo.oldmemo.NAMESPACE, OWN[0], own.device_id)]
    print(json.dumps({"device_id": own.device_id, "bundle": bundle_to_json(bundle),
                      "source": "python3-omemo " + omemo.__version__["full"] + " with python3-oldmemo "
                      + oldmemo.__version__["full"]}), flush=True)
    for line in lines:
        req = json.loads(line)
        try:
            out = await handle(sm, peer_jid, req)
        except Exception as e:  # a refused message is an answer, not the end
            out = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        out["sent"] = sent[:]
        sent.clear()
        print(json.dumps(out), flush=True)


asyncio.run(main())

#!/usr/bin/env python3
"""An independent verifier of the portal's evidence bundles.

Written from docs/evidence.md and README.md ("Exports and evidence bundles")
only, in another language than the portal, so that a bundle can be checked
without trusting the portal's code. Needs Python 3.9+ and `cryptography`.

    python3 vdp_verify.py BUNDLE.zip --key portal-signing-key.json [--vehicle-ca CA.json]
        [--log-key LOGKEY] [--witness NAME=KEY ...]

Prints a JSON report: {"valid", "problems": ["code" or "code:file" or
"sealed_line:file:line", ...], "sealed": {...} or null, "log": {...} or
null}; exit 0 when valid.
"""

import argparse
import base64
import hashlib
import json
import sys
import zipfile
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATA = "data.ndjson"
SEALED = "sealed.ndjson"
LOG_PROOF = "log-proof.json"
DASH = "\u2014 "
FIRST_PREV = "0" * 64
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ed25519_ok(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def b64(text, length):
    """`length` bytes written in base64 (standard alphabet, padded), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
    return raw if len(raw) == length else None


def lower_hex32(text):
    if not isinstance(text, str) or len(text) != 64:
        return None
    if any(c not in "0123456789abcdef" for c in text):
        return None
    return bytes.fromhex(text)


def payload(values):
    return "".join(f"{v}\n" for v in values).encode()


def seal_payload(s):
    return payload(["vdp-seal/1", s["vin"], s["key"], s["seq"], s["count"],
                    s["first_t"], s["last_t"], s["prev"], s["root"]])


def leaf(line: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + line).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_hash(leaves):
    """RFC 9162 section 2.1.1: split at the largest power of two below n."""
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def micros(text):
    """An RFC 3339 time (with its offset) as microseconds since the epoch."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (t - EPOCH) // timedelta(microseconds=1)


def identity(line: bytes):
    try:
        v = json.loads(line)
        kind = v["kind"]
        if kind == "sample":
            return ("sample", micros(v["t"]))
        if kind == "event":
            return ("event", v["id"])
        if kind == "edr":
            return ("edr", v["event_id"])
    except (ValueError, KeyError, TypeError):
        pass
    return None


def withheld_leaf(line: bytes):
    """{"leaf": "<64 hex>"} and nothing else: a withheld line's leaf hash."""
    try:
        v = json.loads(line)
    except ValueError:
        return None
    if isinstance(v, dict) and list(v.keys()) == ["leaf"]:
        try:
            raw = bytes.fromhex(v["leaf"])
        except (ValueError, TypeError):
            return None
        return raw if len(raw) == 32 else None
    return None


def check_seal_fields(s, public):
    """The first failure of a seal's own fields and signature, or None."""
    if not isinstance(s.get("seq"), int) or s["seq"] < 1:
        return "seq"
    if not isinstance(s.get("count"), int) or s["count"] < 1:
        return "count"
    if lower_hex32(s.get("prev")) is None:
        return "prev"
    if s["seq"] == 1 and s["prev"] != FIRST_PREV:
        return "prev"
    if lower_hex32(s.get("root")) is None:
        return "root"
    sig = b64(s.get("sig"), 64)
    if sig is None or not ed25519_ok(public, seal_payload(s), sig):
        return "sig"
    return None


SEAL_FIELDS = ["kind", "vin", "key", "seq", "count", "first_t", "last_t", "prev", "root", "sig"]


def check_sealed(text: bytes, data: bytes, cas):
    problems, report = [], {"ca_checked": cas is not None, "seals": 0, "verified": 0,
                            "withheld": 0, "unsealed": 0, "missing_batches": []}
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()

    def problem(n):
        if len(problems) < 100:
            problems.append(f"sealed_line:{SEALED}:{n}")

    keys, vin, last, vouched = {}, None, {}, set()
    try:
        vehicle = json.loads(lines[0])
        vin = vehicle["vin"]
        for key in vehicle["keys"]:
            public = b64(key.get("public"), 32)
            if cas is not None:
                cert = b64(key.get("cert"), 64)
                ca = cas.get(key.get("ca"))
                signed = payload(["vdp-vehicle-key/1", vin, key["id"], key["public"], key["not_before"]])
                if public is None or cert is None or ca is None or not ed25519_ok(ca, signed, cert):
                    problem(1)
                    continue
            elif public is None:
                problem(1)
                continue
            keys[key["id"]] = public
    except (ValueError, KeyError, TypeError, IndexError):
        problem(1)

    i = 1
    while i < len(lines):
        number = i + 1
        try:
            seal = json.loads(lines[i])
            ok_shape = (isinstance(seal, dict) and sorted(seal) == sorted(SEAL_FIELDS)
                        and seal["kind"] == "seal")
        except ValueError:
            ok_shape = False
        if not ok_shape:
            problem(number)
            i += 1
            continue
        if seal["vin"] != vin:
            problem(number)
        public = keys.get(seal["key"])
        if public is None:
            problem(number)
            i += 1
            continue
        if check_seal_fields(seal, public) is not None:
            problem(number)
        digest = hashlib.sha256(seal_payload(seal)).hexdigest()
        held = last.get(seal["key"])
        if held is not None:
            seq, prev_digest, last_t = held
            if seal["seq"] == seq + 1 and seal["prev"] != prev_digest:
                problem(number)
            elif seal["seq"] > seq + 1:
                report["missing_batches"].append({
                    "key": seal["key"], "from_seq": seq + 1, "to_seq": seal["seq"] - 1,
                    "after": last_t, "before": seal["first_t"]})
            elif seal["seq"] <= seq:
                problem(number)
        last[seal["key"]] = (seal["seq"], digest, seal["last_t"])
        covered = lines[i + 1:i + 1 + seal["count"]]
        if len(covered) < seal["count"]:
            problem(number)
            break
        leaves, revealed, withheld, ids = [], 0, 0, []
        for line in covered:
            held_leaf = withheld_leaf(line)
            if held_leaf is not None:
                leaves.append(held_leaf)
                withheld += 1
            else:
                leaves.append(leaf(line))
                revealed += 1
                ident = identity(line)
                if ident is not None:
                    ids.append(ident)
        if tree_hash(leaves).hex() != seal["root"]:
            problem(number)
        else:
            report["verified"] += revealed
            vouched.update(ids)
        report["withheld"] += withheld
        report["seals"] += 1
        i += 1 + seal["count"]

    for line in data.split(b"\n"):
        ident = identity(line) if line else None
        if ident is not None and ident not in vouched:
            report["unsealed"] += 1
    return report, problems


# --- The transparency log (docs/evidence.md, section 7) ---------------------

class LogProblem(Exception):
    pass


def key_id(name, kind, public):
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def parse_vkey(text, kind):
    """<name>+<hex id>+<base64(kind || key)> -> (name, public key)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise LogProblem(f"`{text}` is not a verifier key")
    name, kid, rest = parts
    raw = b64(rest, 33)
    if raw is None or raw[0] != kind or key_id(name, kind, raw[1:]).hex() != kid:
        raise LogProblem(f"`{text}` is not a verifier key of type {kind}")
    return name, raw[1:]


def parse_witness(text):
    """NAME=KEY: KEY a verifier key of type 0x04 or a bare base64 public key."""
    name, _, key = text.partition("=")
    try:
        vname, public = parse_vkey(key, 4)
        if vname != name:
            raise LogProblem(f"the key given for {name} is of {vname}")
        return name, public
    except LogProblem:
        public = b64(key, 32)
        if not name or public is None:
            raise LogProblem(f"`{text}` is not NAME=KEY")
        return name, public


def parse_note(note):
    """A signed note: its text and its signature lines [(name, id, bytes)]."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise LogProblem("not a signed note")
    text, sigs = note[:split + 1], []
    for line in note[split + 2:-1].split("\n"):
        if not line.startswith(DASH) or " " not in line[len(DASH):]:
            raise LogProblem("a signature line is malformed")
        name, sig = line[len(DASH):].split(" ", 1)
        try:
            raw = base64.b64decode(sig, validate=True)
        except ValueError:
            raise LogProblem(f"the signature by {name} is not base64")
        sigs.append((name, raw[:4], raw[4:]))
    return text, sigs


def checkpoint(note, log_name, log_public, what):
    text, sigs = parse_note(note)
    kid = key_id(log_name, 1, log_public)
    if not any(n == log_name and i == kid and ed25519_ok(log_public, text.encode(), sig)
               for n, i, sig in sigs):
        raise LogProblem(f"{what}: no valid signature by the log {log_name}")
    lines = text.split("\n")
    root = b64(lines[2], 32) if len(lines) > 3 else None
    if lines[0] != log_name or not lines[1].isdigit() or root is None:
        raise LogProblem(f"{what}: not a checkpoint of {log_name}")
    return int(lines[1]), root, text, sigs


def hashes(values, what):
    out = [b64(v, 32) for v in values]
    if any(h is None for h in out):
        raise LogProblem(f"{what}: a hash is not base64 SHA-256")
    return out


def inclusion_ok(leaf_hash, index, size, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_ok(old, new, old_root, new_root, path):
    """RFC 9162 section 2.1.4.2."""
    if old > new or old == 0:
        return False
    if old == new:
        return not path and old_root == new_root
    if old & (old - 1) == 0:  # a power of two: the old root starts the path
        path = [old_root] + path
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def check_log(proof_bytes, manifest, manifest_sha, log_key, witnesses):
    proof = json.loads(proof_bytes)
    log_name, log_public = parse_vkey(log_key or manifest.get("transparency_log") or "", 1)
    size, root, _, _ = checkpoint(proof["checkpoint"], log_name, log_public, "the checkpoint")
    report = {"origin": log_name, "size": size, "imports": 0, "disclosure": None,
              "witnessed": None, "witnesses_checked": bool(witnesses)}
    for leaf in proof["leaves"]:
        what = f"leaf {leaf['index']} ({leaf['role']})"
        fields = json.loads(leaf["leaf"])
        if not isinstance(fields, list) or len(fields) != 7:
            raise LogProblem(f"{what} does not have 7 fields")
        action, vin, details = fields[4], fields[5], fields[6]
        if vin != manifest["vin"]:
            raise LogProblem(f"{what} is of another vehicle")
        if leaf["role"] == "import" and action == "import":
            report["imports"] += 1
        elif leaf["role"] == "disclosure" and action == "export":
            if json.loads(details).get("manifest_sha256") != manifest_sha:
                raise LogProblem(f"{what} records another manifest")
            if report["disclosure"] is not None:
                raise LogProblem("more than one disclosure leaf")
            report["disclosure"] = leaf["index"]
        else:
            raise LogProblem(f"{what} is a `{action}` entry")
        if not inclusion_ok(leaf_hash_of(leaf["leaf"]), leaf["index"], size,
                            hashes(leaf["proof"], what), root):
            raise LogProblem(f"{what}: its inclusion proof fails")
    if report["disclosure"] is None:
        raise LogProblem("no leaf records this disclosure")
    witnessed = proof.get("witnessed")
    if witnessed is None:
        if witnesses:
            raise LogProblem("no checkpoint in the bundle is cosigned")
        return report
    old, old_root, text, sigs = checkpoint(witnessed["checkpoint"], log_name, log_public,
                                           "the witnessed checkpoint")
    if not consistency_ok(old, size, old_root, root,
                          hashes(witnessed["consistency"], "the consistency proof")):
        raise LogProblem("the checkpoint does not extend the witnessed one")
    cosigned = []
    for name, public in witnesses:
        kid = key_id(name, 4, public)
        for n, i, sig in sigs:
            if n == name and i == kid:
                if len(sig) != 72:
                    raise LogProblem(f"the cosignature by {name} does not verify")
                t = int.from_bytes(sig[:8], "big")
                msg = f"cosignature/v1\ntime {t}\n".encode() + text.encode()
                if t >= 2 ** 63 or not ed25519_ok(public, msg, sig[8:]):
                    raise LogProblem(f"the cosignature by {name} does not verify")
                at = datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                cosigned.append({"name": name, "at": at})
                break
    if witnesses and not cosigned:
        raise LogProblem("the witnessed checkpoint is not cosigned by any witness given")
    report["witnessed"] = {
        "size": old,
        "imports": sum(1 for l in proof["leaves"] if l["role"] == "import" and l["index"] < old),
        "cosigned_by": cosigned,
    }
    return report


def leaf_hash_of(text):
    return leaf(text.encode())


def verify(path, key_file, ca_file=None, log_key=None, witnesses=()):
    with open(key_file, encoding="utf-8") as f:
        portal_key = bytes.fromhex(json.load(f)["public_key"])
    cas = None
    if ca_file is not None:
        with open(ca_file, encoding="utf-8") as f:
            cas = {ca["id"]: base64.b64decode(ca["public"]) for ca in json.load(f)}
    problems = []
    with zipfile.ZipFile(path) as z:
        names = [info.filename for info in z.infolist()]
        if MANIFEST not in names:
            return {"valid": False, "problems": ["missing_manifest"], "sealed": None}
        manifest_bytes = z.read(MANIFEST)
        if SIGNATURE not in names:
            problems.append("missing_signature")
        else:
            try:
                sig = bytes.fromhex(z.read(SIGNATURE).decode().strip())
            except ValueError:
                sig = b""
            if not ed25519_ok(portal_key, manifest_bytes, sig):
                problems.append("bad_signature")
        try:
            manifest = json.loads(manifest_bytes)
            listed = {f["name"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError):
            return {"valid": False, "problems": problems + ["bad_manifest"], "sealed": None}
        for name in names:
            if name in (MANIFEST, SIGNATURE, LOG_PROOF):
                continue
            expected = listed.get(name)
            if expected is None:
                problems.append(f"extra_file:{name}")
                continue
            content = z.read(name)
            if len(content) != expected["size"] or hashlib.sha256(content).hexdigest() != expected["sha256"]:
                problems.append(f"hash_mismatch:{name}")
        for name in listed:
            if name not in names:
                problems.append(f"missing_file:{name}")
        sealed = None
        if SEALED in names:
            data = z.read(DATA) if DATA in names else b""
            sealed, sealed_problems = check_sealed(z.read(SEALED), data, cas)
            problems += sealed_problems
        log = None
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        if LOG_PROOF in names:
            try:
                log = check_log(z.read(LOG_PROOF), manifest, manifest_sha, log_key, witnesses)
            except (LogProblem, ValueError, KeyError, TypeError, IndexError, AttributeError):
                problems.append("log_proof")
        elif manifest.get("transparency_log") or witnesses:
            problems.append("log_proof")
    return {"valid": not problems, "problems": problems, "sealed": sealed, "log": log}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--key", required=True, help="the portal's signing key (JSON)")
    parser.add_argument("--vehicle-ca", help="trusted vehicle CAs: a JSON list of {id, public}")
    parser.add_argument("--log-key", help="the log's verifier key (default: the manifest's)")
    parser.add_argument("--witness", action="append", default=[],
                        help="NAME=KEY of a witness whose cosignature is required (any one)")
    args = parser.parse_args()
    try:
        witnesses = [parse_witness(w) for w in args.witness]
    except LogProblem as e:
        parser.error(str(e))
    report = verify(args.bundle, args.key, args.vehicle_ca, args.log_key, witnesses)
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if report["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What differs between two images that should be the same: the first layer whose diff id differs,
and in it each file whose name, type, mode, owner, time, size, link or content differs.

usage: layer-diff.py IMAGE_A IMAGE_B   (references the local daemon holds; read with `docker save`)

Run by the engine suite when a rebuild from nothing gives another digest, so the failure names
the file that is not reproducible instead of only the digests.
"""
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile


def saved(ref, into):
    """The image's layers in order (paths of layer tars in `into`) and its config."""
    with subprocess.Popen(["docker", "save", ref], stdout=subprocess.PIPE) as p:
        tarfile.open(fileobj=p.stdout, mode="r|").extractall(into)
    if p.returncode != 0:
        raise SystemExit(f"docker save {ref} failed")
    manifest = json.load(open(f"{into}/manifest.json"))[0]
    return [f"{into}/{layer}" for layer in manifest["Layers"]], json.load(open(f"{into}/{manifest['Config']}"))


def members(layer):
    out = {}
    with tarfile.open(layer) as t:
        for m in t.getmembers():
            digest = hashlib.sha256(t.extractfile(m).read()).hexdigest()[:12] if m.isfile() else ""
            out[m.name] = (m.type, oct(m.mode), m.uid, m.gid, m.mtime, m.size, m.linkname, digest)
    return out


def main(a, b):
    with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
        (la, ca), (lb, cb) = saved(a, da), saved(b, db)
        ids_a, ids_b = ca["rootfs"]["diff_ids"], cb["rootfs"]["diff_ids"]
        if ids_a == ids_b:
            keys = sorted(k for k in set(ca) | set(cb) if ca.get(k) != cb.get(k))
            print(f"same layers; the image configs differ in: {', '.join(keys) or 'nothing (the manifests differ)'}")
            return
        i = next(i for i, (x, y) in enumerate(zip(ids_a, ids_b)) if x != y) if len(ids_a) == len(ids_b) else 0
        history = [h for h in ca.get("history", []) if not h.get("empty_layer")]
        step = history[i]["created_by"][:160] if i < len(history) else "?"
        print(f"layer {i + 1} of {len(ids_a)} differs ({ids_a[i][:19]} vs {ids_b[i][:19]}), made by: {step}")
        ma, mb = members(la[i]), members(lb[i])
        fields = ("type", "mode", "uid", "gid", "mtime", "size", "link", "sha256")
        shown = 0
        for name in sorted(set(ma) | set(mb)):
            x, y = ma.get(name), mb.get(name)
            if x == y:
                continue
            if x is None or y is None:
                print(f"  {name}: only in {'the second' if x is None else 'the first'}")
            else:
                print(f"  {name}: " + ", ".join(f"{f} {p} vs {q}" for f, p, q in zip(fields, x, y) if p != q))
            shown += 1
            if shown == 40:
                print("  ...")
                break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

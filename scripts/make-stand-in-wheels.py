#!/usr/bin/env python3
"""Builds the engine tests' stand-in wheels and their PEP 503 simple index, stdlib only.

usage: make-stand-in-wheels.py DISTRIBUTIONS_JSON OUT_DIR

A distribution may name `submodules` of its package, each with its source, a file next to
DISTRIBUTIONS_JSON (torch's `cuda`: a stand-in that asks the CUDA driver, as torch.cuda does);
the package imports each one, as torch imports torch.cuda.

Wheels follow the binary distribution format
(https://packaging.python.org/en/latest/specifications/binary-distribution-format/):
`{name}-{version}-py3-none-any.whl`, the name escaped with runs of `-_.` as `_`, the version
with its local label where it has one (`torch-2.2.2+cu121-...`, as download.pytorch.org names
its CUDA builds); a
`{name}-{version}.dist-info` directory holding METADATA (core metadata 2.1: Name, Version,
Requires-Dist), WHEEL (Wheel-Version 1.0, Root-Is-Purelib, Tag), entry_points.txt for console
scripts, and RECORD last: `path,sha256=<urlsafe base64 without padding>,size` per file, RECORD
itself without hash or size. Archives are byte-for-byte reproducible (fixed timestamps and
order), so the hashes in the fixture services' locks stay valid across runs.

The index is PEP 503's (https://peps.python.org/pep-0503/): /simple/ lists the projects,
/simple/<normalized name>/ links each file with a `#sha256=` fragment, the name normalized
as `re.sub(r"[-_.]+", "-", name).lower()`.
"""
import base64
import hashlib
import html
import json
import os
import re
import sys
import zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)


def escaped(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def payload(d, sources):
    """The distribution's files: its import package, submodules, scripts, namespace portion, .pth."""
    v = d["version"]
    submodules = d.get("submodules", {})
    imports = "".join(f"from . import {name}  # noqa: F401\n" for name in sorted(submodules))
    body = f'"""Stand-in for {d["name"]} {v} (fleet engine tests)."""\n{imports}__version__ = "{v}"\n\n\ndef main():\n    print("{d["name"]} {v}")\n'
    files = {}
    # A dotted import is a package inside a PEP 420 namespace shared by several distributions
    # (nvidia.cudnn, nvidia.cublas, ...): only the innermost directory gets an __init__.py.
    module_path = d["import"].replace(".", "/")
    for name, source in sorted(submodules.items()):
        with open(os.path.join(sources, source), encoding="utf-8") as f:
            files[f"{module_path}/{name}/__init__.py"] = f.read()
    if d.get("module"):
        files[f"{module_path}.py"] = body
    else:
        files[f"{module_path}/__init__.py"] = body
    for f in d.get("files", []):
        # Data files where the real wheel has them (nvidia/cudnn/lib/libcudnn.so.9): a test can
        # see that a path derived from the data exists after pip installed the wheel. Text, not ELF.
        files[f] = f'Stand-in for {f.rsplit("/", 1)[-1]} of {d["name"]} {v} (fleet engine tests)\n'
    if "namespace" in d:
        # PEP 420 implicit namespace: no __init__.py, portions from several distributions.
        pkg, mod = d["namespace"].split(".")
        files[f"{pkg}/{mod}.py"] = f'DISTRIBUTION = "{d["name"]}"\n'
    if "pth" in d:
        # site.py runs lines starting with `import` in .pth files of site-packages.
        files[d["pth"]] = f'import os; os.environ.setdefault("FLEET_STANDIN_PTH", "{d["name"]}")\n'
    return files


def metadata(d):
    lines = ["Metadata-Version: 2.1", f'Name: {d["name"]}', f'Version: {d["version"]}',
             f'Summary: Stand-in for {d["name"]} {d["version"]} (fleet engine tests)', "Requires-Python: >=3.8"]
    lines += [f"Requires-Dist: {r}" for r in d["requires"]]
    return "\n".join(lines) + "\n"


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(d, out_dir, sources):
    stem = f'{escaped(d["name"])}-{d["version"]}'
    info = f"{stem}.dist-info"
    files = payload(d, sources)
    files[f"{info}/METADATA"] = metadata(d)
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: fleet make-stand-in-wheels\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if d.get("scripts"):
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(d["scripts"].items()))
    files[f"{info}/top_level.txt"] = d["import"].split(".")[0] + "\n"
    record = []
    path = os.path.join(out_dir, f"{stem}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            data = files[name].encode()
            zi = zipfile.ZipInfo(name, EPOCH)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
            record.append(f"{name},{record_hash(data)},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zi = zipfile.ZipInfo(f"{info}/RECORD", EPOCH)
        zi.external_attr = 0o644 << 16
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, "\n".join(record) + "\n")
    return path


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def page(title, links):
    anchors = "".join(f'    <a href="{html.escape(h)}">{html.escape(t)}</a><br/>\n' for h, t in links)
    return f"<!DOCTYPE html>\n<html>\n  <head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>{html.escape(title)}</title></head>\n  <body>\n{anchors}  </body>\n</html>\n"


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: make-stand-in-wheels.py DISTRIBUTIONS_JSON OUT_DIR")
    with open(argv[1], encoding="utf-8") as f:
        dists = json.load(f)["distributions"]
    out = argv[2]
    files_dir = os.path.join(out, "files")
    os.makedirs(files_dir, exist_ok=True)
    projects = {}
    for d in dists:
        wheel = build_wheel(d, files_dir, os.path.dirname(os.path.abspath(argv[1])))
        with open(wheel, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        projects.setdefault(normalized(d["name"]), []).append((os.path.basename(wheel), digest))
    for name, wheels in sorted(projects.items()):
        write(os.path.join(out, "simple", name, "index.html"),
              page(f"Links for {name}", [(f"../../files/{w}#sha256={h}", w) for w, h in sorted(wheels)]))
    write(os.path.join(out, "simple", "index.html"), page("Simple index", [(f"{n}/", n) for n in sorted(projects)]))
    print(f"make-stand-in-wheels: {len(dists)} wheels of {len(projects)} projects in {out}")


if __name__ == "__main__":
    main(sys.argv)

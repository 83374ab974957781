"""Unpack one Kubernetes version's JSON schemas from the kubernetes-validate wheel
into a directory kubeconform reads with -schema-location.

The wheel ships, per Kubernetes version, `v<X.Y.Z>-local-strict/`: one schema
per kind (`deployment-apps-v1.json`, ...; `additionalProperties: false`
everywhere, i.e. strict) whose `$ref`s point at a shared `_definitions.json`
through the absolute URL `https://kubernetes.io/api/_definitions.json` (via
`$id`). kubeconform would try to download that URL; so each schema loses its
`$id` and its refs become relative (`_definitions.json#/$defs/...`), resolved
next to the file on disk. Nothing else changes.

usage: schemas.py <wheel> <kubernetes version, e.g. 1.33.0> <output dir>
"""
import json
import os
import sys
import zipfile

wheel, version, out = sys.argv[1:4]
prefix = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
os.makedirs(out, exist_ok=True)
count = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if not (name.startswith(prefix) and name.endswith(".json")):
            continue
        schema = json.loads(z.read(name))
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(os.path.join(out, name[len(prefix):]), "w", encoding="utf-8") as f:
            f.write(text)
        count += 1
if count == 0 or not os.path.exists(os.path.join(out, "_definitions.json")):
    sys.exit(f"no schemas for Kubernetes {version} in {wheel}")
print(f"   {count} schemas for Kubernetes {version}", file=sys.stderr)

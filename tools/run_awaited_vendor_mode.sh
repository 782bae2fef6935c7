#!/usr/bin/env bash
# Vendor mode with an initiator under test that has no trigger command, proven end to end:
#
#     PYTHON=.tox/producer/bin/python tools/run_awaited_vendor_mode.sh producer [pytest arguments...]
#     PYTHON=.tox/consumer/bin/python tools/run_awaited_vendor_mode.sh consumer [pytest arguments...]
#
# The vendor's system is played by a process started in the background, acting on its own schedule as a real
# PACS or viewer would: tools/vendor_producer.py --every 0.5 publishes a new exam of the test patient every half
# second, of each modality in turn, to our registry simulator (presets/producer-awaited.toml: port 18091; each
# scenario awaits a lot of its exam's modality); tools/vendor_consumer.py --every 1
# searches the test patient's documents every second, retrieves each new exam and the images of its KOS by
# RAD-69, C-GET, C-MOVE and WADO-RS (presets/consumer-awaited.toml: registry 18092, imaging source 18093/18094). Meanwhile
#     XDSI_SUT=presets/<actor>-awaited.toml $PYTHON -m pytest features -m actor_<actor> "$@"
# runs: each scenario awaits the initiator's messages (bounded by wait_seconds). The background process is
# stopped at the end and pytest's exit status is returned. PYTHON defaults to python3.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
actor="${1:-}"
shift || true
patient="248039263001064"  # the test patient of the scenarios (xdsi.messages.examples.Exam)
case "$actor" in
    producer) vendor=(tools/vendor_producer.py http://127.0.0.1:18091/iti41 "$patient" ACCAWAIT --every 0.5 --for 900
                      --modality CT,MR,US,MG,PT,NM,XA) ;;
    consumer) vendor=(tools/vendor_consumer.py http://127.0.0.1:18092 "$patient^^^&1.2.250.1.213.1.4.10&ISO^NH"
                      --every 1 --for 900 --images --rad69-url http://127.0.0.1:18094/rad69
                      --dicom XDSI_SOURCE@127.0.0.1:18093 --move VENDOR_VIEWER@127.0.0.1:18095) ;;
    *) echo "usage: $0 producer|consumer [pytest arguments...]" >&2; exit 2 ;;
esac

log="$(mktemp "${TMPDIR:-/tmp}/xdsi-vendor-$actor.XXXXXX")"
"$PYTHON" "${vendor[@]}" >"$log" 2>&1 &
vendor_pid=$!
trap 'kill "$vendor_pid" 2>/dev/null; wait "$vendor_pid" 2>/dev/null' EXIT

XDSI_SUT="presets/$actor-awaited.toml" "$PYTHON" -m pytest features -m "actor_$actor" \
    --junitxml="reports/junit-$actor-awaited.xml" "$@"
status=$?
echo "run_awaited_vendor_mode: the vendor's $actor said (last lines of $log):"
tail -n 5 "$log"
exit "$status"

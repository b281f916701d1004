#!/usr/bin/env bash
# An independent consumer of the BI stream: Debian's kcat reads a lead's
# creation off crm.lead.events.v1 from the local broker, and protoc decodes
# the value with the build's descriptor set, by the type its ce_type header
# names. No project code reads or decodes.
#
#   bi_consumer_test.sh BROKER_BIN LEAD_BIN CRMCTL_BIN DESCRIPTOR_SET
set -euo pipefail
broker_bin=$1 lead_bin=$2 crmctl=$3 descriptors=$4
for tool in kcat protoc; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool is not installed: run tools/install-deps"; exit 1; }
done
dir=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$dir/hs256.key"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$dir/pii-match.key"
"$broker_bin" --bootstrap-file="$dir/bootstrap" > "$dir/broker.log" 2>&1 &
wait_for 20 test -s "$dir/bootstrap" || { echo "FAIL: broker did not start"; exit 1; }
"$lead_bin" --data-dir="$dir/lead" --grpc-listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 \
  --kafka-bootstrap-file="$dir/bootstrap" --port-file="$dir/lead.ports" --auth-keys="$dir/hs256.key" \
  --pii-match-key="$dir/pii-match.key" > "$dir/lead.log" 2>&1 &
wait_for 60 test -s "$dir/lead.ports" || { echo "FAIL: lead service did not start"; cat "$dir/lead.log"; exit 1; }
port=$(sed -n 's/^grpc=//p' "$dir/lead.ports")
ctl=("$crmctl" --lead="127.0.0.1:$port" --key-file="$dir/hs256.key" --tenant=bi-test --user=bi-admin --roles=admin)
"${ctl[@]}" channel create web --name=Web --kind=self-built > /dev/null
"${ctl[@]}" lead create --channel=web --company="Acme GmbH" --email=ann@acme.example > /dev/null

bootstrap=$(head -n 1 "$dir/bootstrap")
find_created() {
  kcat -C -b "$bootstrap" -t crm.lead.events.v1 -o beginning -e -q \
    -f '%p %o %h\n' > "$dir/index" 2> /dev/null || return 1
  grep -q 'ce_type=crm.lead.events.v1.LeadCreated' "$dir/index"
}
wait_for 60 find_created || { echo "FAIL: no LeadCreated on the topic"; cat "$dir/index"; exit 1; }
read -r partition offset headers < <(grep 'ce_type=crm.lead.events.v1.LeadCreated' "$dir/index" | head -n 1)
case "$headers" in
  *crm_tenant=bi-test*) ;;
  *) echo "FAIL: headers lack the tenant: $headers"; exit 1 ;;
esac
case "$headers" in
  *crm_actor=bi-admin*) ;;
  *) echo "FAIL: headers lack the actor who created the lead: $headers"; exit 1 ;;
esac
type=$(tr ',' '\n' <<< "$headers" | sed -n 's/^ce_type=//p')
kcat -C -b "$bootstrap" -t crm.lead.events.v1 -p "$partition" -o "$offset" -c 1 -e -q -f '%s' \
  > "$dir/value.bin"
protoc --descriptor_set_in="$descriptors" --decode="$type" < "$dir/value.bin" > "$dir/decoded.txt"
for want in 'company_name: "Acme GmbH"' 'channel_id: "web"' 'sealed {' 'ciphertext: '; do
  grep -qF "$want" "$dir/decoded.txt" || { echo "FAIL: decoded $type lacks $want:"; cat "$dir/decoded.txt"; exit 1; }
done
# Personal data travels only sealed with the person's key.
if grep -qF 'ann@acme.example' "$dir/decoded.txt" "$dir/value.bin"; then
  echo "FAIL: the contact's email is readable on the topic:"; cat "$dir/decoded.txt"; exit 1
fi
echo "ok: $type at partition $partition offset $offset decoded with the descriptor set"

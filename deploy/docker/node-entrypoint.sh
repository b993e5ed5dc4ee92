#!/bin/sh
# Entrypoint of the raftkv node image under the operator. Applies the start rule the operator's
# planner relies on (io.raftkv.operator.driver.Workloads):
#   - a data dir that holds a member starts from it;
#   - an empty data dir starts a NEW cluster while the bootstrap ConfigMap says "new";
#   - after bootstrap, an empty data dir may join only if the operator admitted this pod (it was
#     added to the member list and has never run); otherwise the pod refuses to start and reports
#     "FreshDataDir" in its termination message, so that the operator replaces the member instead of
#     letting it rejoin under its old identity with an empty log (which would forget its votes).
set -eu

CONF=/etc/raftkv/bootstrap
read_key() {
  if [ -f "$CONF/$1" ]; then cat "$CONF/$1"; fi
}

: "${POD_NAME:?POD_NAME must be set (downward API)}"
: "${PEER_HOST_SUFFIX:?PEER_HOST_SUFFIX must be set}"
DATA_DIR="${DATA_DIR:-/var/lib/raftkv}"
HOST="${POD_NAME}${PEER_HOST_SUFFIX}"
PEER_URL="http://${HOST}:2380"
CLIENT_URL="http://${HOST}:2379"
BOOTSTRAP_STATE="$(read_key initial-cluster-state)"

if [ -d "${DATA_DIR}/member" ]; then
  STATE=existing
  INITIAL="${POD_NAME}=${PEER_URL}"
else
  case "${BOOTSTRAP_STATE}" in
    new)
      STATE=new
      INITIAL="$(read_key initial-cluster)"
      ;;
    existing)
      case ",$(read_key admitted)," in
        *",${POD_NAME},"*)
          STATE=existing
          INITIAL="${POD_NAME}=${PEER_URL}"
          ;;
        *)
          echo "FreshDataDir" > /dev/termination-log
          echo "raftkv: ${DATA_DIR} is empty and ${POD_NAME} is not admitted to join; the operator replaces this member" >&2
          exit 3
          ;;
      esac
      ;;
    *)
      echo "raftkv: the bootstrap configuration is not written yet" >&2
      exit 4
      ;;
  esac
fi

# JAVA_OPTS is a list of JVM options: word splitting is intended.
# shellcheck disable=SC2086
exec ${RAFTKV_BIN:-java ${JAVA_OPTS:-} -jar /opt/raftkv/app/quarkus-run.jar} \
  --name "${POD_NAME}" \
  --data-dir "${DATA_DIR}" \
  --listen-client-urls "http://0.0.0.0:2379" \
  --advertise-client-urls "${CLIENT_URL}" \
  --listen-peer-urls "http://0.0.0.0:2380" \
  --initial-advertise-peer-urls "${PEER_URL}" \
  --listen-metrics-urls "http://0.0.0.0:2381" \
  --initial-cluster "${INITIAL}" \
  --initial-cluster-state "${STATE}" \
  --initial-cluster-token "$(read_key initial-cluster-token)" \
  --heartbeat-interval "${HEARTBEAT_INTERVAL:-100}" \
  --election-timeout "${ELECTION_TIMEOUT:-1000}" \
  --quota-backend-bytes "${QUOTA_BACKEND_BYTES:-0}"

package io.raftkv.server.node;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a node needs to start, resolved from etcd-style flags.
 *
 * @param name                 this member's name
 * @param memberId             this member's id (for a new cluster, derived from flags; for a
 *                             member joining with state "existing", 0 until the leader tells it)
 * @param clusterId            the cluster id reported in response headers
 * @param dataDir              where the log, the store and the member table live
 * @param listenPeer           host:port the peer transport binds
 * @param advertisePeerUrls    this member's peer URLs
 * @param advertiseClientUrls  this member's client URLs
 * @param initialMembers       the initial cluster's members: id to (name, peer URLs)
 * @param joinExisting         true for --initial-cluster-state existing
 * @param token                --initial-cluster-token
 * @param tickMillis           one Raft tick
 * @param electionTicks        election timeout in ticks
 * @param heartbeatTicks       heartbeat interval in ticks
 * @param snapshotCount        applied entries between snapshots
 * @param quotaBytes           backend quota
 * @param maxRequestBytes      largest client request accepted
 * @param maxTxnOps            most operations in one txn list
 * @param watchProgressNotifyIntervalMillis how often progress_notify watchers without events get
 *                             an empty response (etcd's --experimental-watch-progress-notify-interval)
 */
public record NodeSettings(String name, long memberId, long clusterId, Path dataDir, URI listenPeer,
                           List<String> advertisePeerUrls, List<String> advertiseClientUrls,
                           Map<Long, InitialMember> initialMembers, boolean joinExisting, String token,
                           long tickMillis, int electionTicks, int heartbeatTicks, long snapshotCount,
                           long quotaBytes, long maxRequestBytes, int maxTxnOps,
                           long watchProgressNotifyIntervalMillis) {

    /** One member of the initial cluster. */
    public record InitialMember(String name, List<String> peerUrls) {
    }
}

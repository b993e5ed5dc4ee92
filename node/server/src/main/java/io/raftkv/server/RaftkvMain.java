package io.raftkv.server;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.raftkv.server.node.NodeRuntime;
import io.raftkv.server.node.NodeSettings;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The raftkv node's entry point: parses etcd's flags ({@code --help} lists them), turns them into
 * {@link NodeSettings}, points Quarkus's gRPC server at the client URL and its HTTP server at the
 * metrics URL, and runs.
 */
@QuarkusMain
public final class RaftkvMain {
    private RaftkvMain() {
    }

    /** Runs a node until SIGTERM/SIGINT, or the {@code snapshot restore} command. */
    public static void main(String... args) {
        if (SnapshotRestore.isCommand(args)) {
            System.exit(SnapshotRestore.run(args, System.out, System.err));
        }
        ServerFlags f = ServerFlags.parseOrExit(args, System.out, System.err);
        URI client = f.listenClientUrls().get(0);
        URI metrics = f.listenMetricsUrls().get(0);
        System.setProperty("quarkus.grpc.server.host", client.getHost());
        System.setProperty("quarkus.grpc.server.port", Integer.toString(client.getPort()));
        System.setProperty("quarkus.http.host", metrics.getHost());
        System.setProperty("quarkus.http.port", Integer.toString(metrics.getPort()));
        System.setProperty("quarkus.grpc.server.max-inbound-message-size",
                Long.toString(f.maxRequestBytes() + (512 << 10)));
        System.setProperty("quarkus.log.level", switch (f.logLevel()) {
            case DEBUG -> "DEBUG";
            case INFO -> "INFO";
            case WARN -> "WARN";
            default -> "ERROR";
        });
        NodeRuntime.configure(settings(f));
        Quarkus.run();
    }

    /** Resolves flags into what the node needs: ids, ticks, the initial member table. */
    static NodeSettings settings(ServerFlags f) {
        long heartbeatMs = f.heartbeatInterval().toMillis();
        long tickMs = Math.max(1, heartbeatMs / 2);
        int heartbeatTicks = (int) Math.max(1, heartbeatMs / tickMs);
        int electionTicks = (int) Math.max(heartbeatTicks + 1, f.electionTimeout().toMillis() / tickMs);
        Map<Long, NodeSettings.InitialMember> initial = new HashMap<>();
        f.initialCluster().forEach((name, urls) -> initial.put(
                ServerFlags.memberId(name, urls, f.initialClusterToken()),
                new NodeSettings.InitialMember(name, urls.stream().map(URI::toString).toList())));
        boolean join = f.initialClusterState() == ServerFlags.ClusterState.EXISTING;
        List<URI> mine = f.initialCluster().get(f.name());
        long id = join || mine == null ? 0 : ServerFlags.memberId(f.name(), mine, f.initialClusterToken());
        long clusterId = ServerFlags.clusterId(f.initialCluster(), f.initialClusterToken());
        return new NodeSettings(f.name(), id, clusterId, f.dataDir(), f.listenPeerUrls().get(0),
                f.initialAdvertisePeerUrls().stream().map(URI::toString).toList(),
                f.advertiseClientUrls().stream().map(URI::toString).toList(), initial, join,
                f.initialClusterToken(), tickMs, electionTicks, heartbeatTicks, f.snapshotCount(),
                f.quotaBackendBytes(), f.maxRequestBytes(), f.maxTxnOps(),
                f.watchProgressNotifyInterval().toMillis());
    }
}

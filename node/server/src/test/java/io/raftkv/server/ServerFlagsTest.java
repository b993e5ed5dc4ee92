package io.raftkv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ServerFlagsTest {

    private static URI u(String s) {
        return URI.create(s);
    }

    private static final String[] THREE = {
        "--name", "n2",
        "--initial-advertise-peer-urls", "http://10.0.0.2:2380",
        "--initial-cluster",
        "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380,n3=http://10.0.0.3:2380",
    };

    private static void assertBad(String messagePart, String... args) {
        assertThatThrownBy(() -> ServerFlags.parse(args))
                .isInstanceOf(ServerFlags.FlagException.class)
                .hasMessageContaining(messagePart)
                .satisfies(e -> assertThat(((ServerFlags.FlagException) e).exitCode()).isEqualTo(2));
    }

    // ------------------------------------------------------------------------ defaults and forms

    @Test
    void noFlagsGiveEtcdsDefaultsExceptTheElectionTimeout() {
        ServerFlags f = ServerFlags.parse();
        assertThat(f.name()).isEqualTo("default");
        assertThat(f.dataDir()).isEqualTo(Path.of("default.etcd"));
        assertThat(f.listenClientUrls()).containsExactly(u("http://localhost:2379"));
        assertThat(f.advertiseClientUrls()).containsExactly(u("http://localhost:2379"));
        assertThat(f.listenPeerUrls()).containsExactly(u("http://localhost:2380"));
        assertThat(f.initialAdvertisePeerUrls()).containsExactly(u("http://localhost:2380"));
        assertThat(f.initialCluster()).containsExactly(
                Map.entry("default", List.of(u("http://localhost:2380"))));
        assertThat(f.initialClusterState()).isEqualTo(ServerFlags.ClusterState.NEW);
        assertThat(f.initialClusterToken()).isEqualTo("etcd-cluster");
        assertThat(f.heartbeatInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(f.electionTimeout()).isEqualTo(Duration.ofMillis(150));
        assertThat(f.snapshotCount()).isEqualTo(100_000);
        assertThat(f.quotaBackendBytes()).isEqualTo(2L * 1024 * 1024 * 1024);
        assertThat(f.maxRequestBytes()).isEqualTo(1_572_864);
        assertThat(f.maxTxnOps()).isEqualTo(128);
        assertThat(f.logLevel()).isEqualTo(ServerFlags.LogLevel.INFO);
    }

    @Test
    void everyFlagIsReadInEveryForm() {
        ServerFlags f = ServerFlags.parse(
                "--name", "n1",
                "--data-dir=/var/lib/raftkv",
                "-listen-client-urls", "http://0.0.0.0:2379,https://127.0.0.1:2479",
                "-advertise-client-urls=http://10.0.0.1:2379",
                "--listen-peer-urls", "http://0.0.0.0:2380",
                "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
                "--initial-cluster", "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380",
                "--initial-cluster-state", "existing",
                "--initial-cluster-token", "tok",
                "--heartbeat-interval", "50",
                "--election-timeout=1000",
                "--snapshot-count", "5000",
                "--quota-backend-bytes", "1048576",
                "--max-request-bytes", "2048",
                "--max-txn-ops", "16",
                "--log-level", "debug");
        assertThat(f.name()).isEqualTo("n1");
        assertThat(f.dataDir()).isEqualTo(Path.of("/var/lib/raftkv"));
        assertThat(f.listenClientUrls())
                .containsExactly(u("http://0.0.0.0:2379"), u("https://127.0.0.1:2479"));
        assertThat(f.advertiseClientUrls()).containsExactly(u("http://10.0.0.1:2379"));
        assertThat(f.listenPeerUrls()).containsExactly(u("http://0.0.0.0:2380"));
        assertThat(f.initialAdvertisePeerUrls()).containsExactly(u("http://10.0.0.1:2380"));
        assertThat(f.initialCluster()).containsOnlyKeys("n1", "n2");
        assertThat(f.initialClusterState()).isEqualTo(ServerFlags.ClusterState.EXISTING);
        assertThat(f.initialClusterToken()).isEqualTo("tok");
        assertThat(f.heartbeatInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(f.electionTimeout()).isEqualTo(Duration.ofMillis(1000));
        assertThat(f.snapshotCount()).isEqualTo(5000);
        assertThat(f.quotaBackendBytes()).isEqualTo(1_048_576);
        assertThat(f.maxRequestBytes()).isEqualTo(2048);
        assertThat(f.maxTxnOps()).isEqualTo(16);
        assertThat(f.logLevel()).isEqualTo(ServerFlags.LogLevel.DEBUG);
    }

    @Test
    void watchProgressNotifyIntervalTakesGoDurationsAndDefaultsToTenMinutes() {
        assertThat(ServerFlags.parse().watchProgressNotifyInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(ServerFlags.parse("--experimental-watch-progress-notify-interval=1m30s")
                .watchProgressNotifyInterval()).isEqualTo(Duration.ofSeconds(90));
        assertThat(ServerFlags.parse("--experimental-watch-progress-notify-interval", "500ms")
                .watchProgressNotifyInterval()).isEqualTo(Duration.ofMillis(500));
        assertThatThrownBy(() -> ServerFlags.parse("--experimental-watch-progress-notify-interval=10"))
                .isInstanceOf(ServerFlags.FlagException.class).hasMessageContaining("want a duration");
        assertThatThrownBy(() -> ServerFlags.parse("--experimental-watch-progress-notify-interval=5x"))
                .isInstanceOf(ServerFlags.FlagException.class);
    }

    @Test
    void dataDirDefaultFollowsTheName() {
        assertThat(ServerFlags.parse("-name=infra0").dataDir()).isEqualTo(Path.of("infra0.etcd"));
    }

    @Test
    void withoutInitialClusterTheMemberBootstrapsAloneUnderItsName() {
        ServerFlags f = ServerFlags.parse("--name", "solo",
                "--initial-advertise-peer-urls", "http://10.0.0.9:2380,http://10.0.1.9:2380");
        assertThat(f.initialCluster()).containsExactly(Map.entry("solo",
                List.of(u("http://10.0.0.9:2380"), u("http://10.0.1.9:2380"))));
    }

    @Test
    void theLastOfARepeatedFlagWins() {
        assertThat(ServerFlags.parse("--log-level", "warn", "--log-level=error").logLevel())
                .isEqualTo(ServerFlags.LogLevel.ERROR);
    }

    @Test
    void zeroSnapshotCountAndZeroQuotaMeanTheDefaults() {
        ServerFlags f = ServerFlags.parse("--snapshot-count=0", "--quota-backend-bytes=0");
        assertThat(f.snapshotCount()).isEqualTo(ServerFlags.DEFAULT_SNAPSHOT_COUNT);
        assertThat(f.quotaBackendBytes()).isEqualTo(ServerFlags.DEFAULT_QUOTA_BACKEND_BYTES);
    }

    @Test
    void everyLogLevelParses() {
        for (ServerFlags.LogLevel level : ServerFlags.LogLevel.values()) {
            assertThat(ServerFlags.parse("--log-level", level.name().toLowerCase()).logLevel())
                    .isEqualTo(level);
        }
    }

    // ------------------------------------------------------------------------ initial cluster

    @Test
    void initialClusterKeepsOrderAndCollectsSeveralUrlsPerName() {
        Map<String, List<URI>> c = ServerFlags.parseInitialCluster(
                "b=http://h1:1, a=http://h2:2,b=https://h3:3");
        assertThat(c.keySet()).containsExactly("b", "a");
        assertThat(c.get("b")).containsExactly(u("http://h1:1"), u("https://h3:3"));
        ServerFlags f = ServerFlags.parse("--name", "b",
                "--initial-advertise-peer-urls", "https://h3:3,http://h1:1",
                "--initial-cluster", "b=http://h1:1,a=http://h2:2,b=https://h3:3");
        assertThat(f.initialCluster().get("b")).hasSize(2);
    }

    @Test
    void badInitialClustersAreRefused() {
        assertBad("not of the form name=url", "--initial-cluster", "n1");
        assertBad("not of the form name=url", "--initial-cluster", "=http://h:1");
        assertBad("duplicate url http://h:1", "--initial-cluster", "a=http://h:1,b=http://h:1");
        assertBad("--initial-cluster must not be empty", "--initial-cluster", "");
        assertBad("URL scheme must be http or https", "--initial-cluster", "default=ftp://h:1");
    }

    @Test
    void theNameMustBeInTheInitialCluster() {
        assertBad("couldn't find local name \"n9\"", "--name", "n9",
                "--initial-cluster", "n1=http://localhost:2380");
        assertBad("couldn't find local name \"n9\"", "--name", "n9",
                "--initial-cluster-state", "existing",
                "--initial-cluster", "n1=http://localhost:2380");
    }

    @Test
    void aNewMembersAdvertisedPeerUrlsMustMatchItsInitialClusterEntry() {
        assertBad("--initial-cluster has n2=http://10.0.0.2:2380 but"
                + " --initial-advertise-peer-urls is http://10.0.0.7:2380",
                "--name", "n2", "--initial-advertise-peer-urls", "http://10.0.0.7:2380",
                "--initial-cluster", "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380");
    }

    // ------------------------------------------------------------------------ errors

    @Test
    void unknownFlagIsNamedAndExitsWithTwo() {
        assertBad("unknown flag: --no-such-flag", "--no-such-flag", "x");
        assertBad("unknown flag: -nam", "-nam", "x");
        ServerFlags.Outcome o = ServerFlags.parseCommandLine("--bogus");
        assertThat(o).isInstanceOf(ServerFlags.Exit.class);
        ServerFlags.Exit exit = (ServerFlags.Exit) o;
        assertThat(exit.code()).isEqualTo(2);
        assertThat(exit.stdout()).isEmpty();
        assertThat(exit.stderr()).contains("unknown flag: --bogus").contains("raftkv --help");
    }

    @Test
    void missingValuesAndPositionalArgumentsAreRefused() {
        assertBad("flag needs an argument: --name", "--name");
        assertBad("'member1' is not a valid flag", "member1");
        assertBad("'--' is not a valid flag", "--");
    }

    @Test
    void badValuesNameTheirFlag() {
        assertBad("invalid value \"soon\" for flag --heartbeat-interval: not an integer",
                "--heartbeat-interval", "soon");
        assertBad("invalid value \"0\" for flag --max-txn-ops", "--max-txn-ops", "0");
        assertBad("invalid value \"-1\" for flag --quota-backend-bytes",
                "--quota-backend-bytes", "-1");
        assertBad("invalid value \"0\" for flag --max-request-bytes", "--max-request-bytes", "0");
        assertBad("invalid value \"-5\" for flag --snapshot-count", "--snapshot-count", "-5");
        assertBad("for flag --initial-cluster-state: want new or existing",
                "--initial-cluster-state", "old");
        assertBad("for flag --log-level: want debug, info, warn or error", "--log-level", "trace");
        assertBad("--name must not be empty", "--name", "");
        assertBad("--initial-cluster-token must not be empty", "--initial-cluster-token=");
        assertBad("--max-txn-ops (3000000000) must be at most", "--max-txn-ops", "3000000000");
    }

    @Test
    void badUrlsAreRefusedWithTheRule() {
        assertBad("URL scheme must be http or https: unix://x:1",
                "--listen-peer-urls", "unix://x:1");
        assertBad("does not have the form \"host:port\": http://localhost",
                "--listen-peer-urls", "http://localhost");
        assertBad("must not contain a path", "--listen-peer-urls", "http://localhost:1/x");
        assertBad("--listen-peer-urls: empty URL", "--listen-peer-urls", "http://h:1,");
        assertBad("invalid URL", "--listen-peer-urls", "http://h :1");
    }

    @Test
    void listenClientUrlsNeedAdvertiseClientUrls() {
        assertBad("--advertise-client-urls is required when --listen-client-urls is set",
                "--listen-client-urls", "http://0.0.0.0:2379");
    }

    @Test
    void electionTimeoutMustExceedTheHeartbeatAndBeAtMostFiftySeconds() {
        // raftkv's rule (design card): longer than one heartbeat; etcd asks for 5 heartbeats.
        assertBad("--election-timeout (100ms) must be longer than --heartbeat-interval (100ms)",
                "--election-timeout", "100");
        ServerFlags ok = ServerFlags.parse("--election-timeout", "101");
        assertThat(ok.electionTimeout()).isEqualTo(Duration.ofMillis(101));
        assertThat(ServerFlags.parse("--election-timeout", "50000").electionTimeout())
                .isEqualTo(Duration.ofSeconds(50));
        assertBad("is too long", "--heartbeat-interval", "1000", "--election-timeout", "50001");
        assertBad("invalid value \"0\" for flag --heartbeat-interval", "--heartbeat-interval", "0");
    }

    // ------------------------------------------------------------------------ help

    @Test
    void helpListsEveryFlagWithItsDefaultAndTheElectionTimeoutDifference() {
        String help = ServerFlags.help();
        for (String flag : List.of("--name", "--data-dir", "--listen-client-urls",
                "--advertise-client-urls", "--listen-peer-urls", "--initial-advertise-peer-urls",
                "--initial-cluster", "--initial-cluster-state", "--initial-cluster-token",
                "--heartbeat-interval", "--election-timeout", "--snapshot-count",
                "--quota-backend-bytes", "--max-request-bytes", "--max-txn-ops", "--log-level",
                "--help")) {
            assertThat(help).contains(flag);
        }
        assertThat(help).contains("(default \"${name}.etcd\")")
                .contains("(default \"150\")")
                .contains("etcd's is 1000")
                .contains("(default \"1572864\")");
    }

    @Test
    void helpInAnyFormExitsWithZeroAndPrintsToStdout() {
        for (String h : List.of("--help", "-h", "-help", "--help=true", "--h")) {
            ServerFlags.Outcome o = ServerFlags.parseCommandLine("--name", "x", h, "--bogus");
            assertThat(o).as(h).isEqualTo(new ServerFlags.Exit(0, ServerFlags.help(), ""));
        }
        assertThat(ServerFlags.parseCommandLine("--bogus", "--help"))
                .isInstanceOf(ServerFlags.Exit.class)
                .extracting(o -> ((ServerFlags.Exit) o).code()).isEqualTo(2);
        assertThat(ServerFlags.parseCommandLine("--help=false"))
                .isInstanceOf(ServerFlags.Run.class);
    }

    // ------------------------------------------------------------------------ ids

    @Test
    void idsAreStableNonZeroAndAgreeAcrossMembers() {
        ServerFlags n2 = ServerFlags.parse(THREE);
        ServerFlags n1 = ServerFlags.parse("--name", "n1",
                "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
                "--initial-cluster", THREE[5]);
        assertThat(n1.clusterId()).isEqualTo(n2.clusterId()).isNotZero();
        assertThat(n1.memberIds()).isEqualTo(n2.memberIds());
        assertThat(n2.memberId()).isEqualTo(n1.memberId("n2"));
        Set<Long> ids = new HashSet<>(n1.memberIds().values());
        assertThat(ids).hasSize(3).doesNotContain(0L);
        assertThat(ServerFlags.parse(THREE).memberId()).isEqualTo(n2.memberId());
    }

    @Test
    void idsIgnoreOrderButDependOnNameUrlsAndToken() {
        List<URI> ab = List.of(u("http://a:1"), u("http://b:1"));
        List<URI> ba = List.of(u("http://b:1"), u("http://a:1"));
        long id = ServerFlags.memberId("m", ab, "t");
        assertThat(ServerFlags.memberId("m", ba, "t")).isEqualTo(id);
        assertThat(ServerFlags.memberId("m2", ab, "t")).isNotEqualTo(id);
        assertThat(ServerFlags.memberId("m", List.of(u("http://a:1")), "t")).isNotEqualTo(id);
        assertThat(ServerFlags.memberId("m", ab, "t2")).isNotEqualTo(id);

        Map<String, List<URI>> c1 = new LinkedHashMap<>();
        c1.put("x", ab);
        c1.put("y", List.of(u("http://c:1")));
        Map<String, List<URI>> c2 = new LinkedHashMap<>();
        c2.put("y", List.of(u("http://c:1")));
        c2.put("x", ba);
        long cid = ServerFlags.clusterId(c1, "t");
        assertThat(ServerFlags.clusterId(c2, "t")).isEqualTo(cid);
        assertThat(ServerFlags.clusterId(c1, "other")).isNotEqualTo(cid);
        assertThat(ServerFlags.clusterId(Map.of("x", ab), "t")).isNotEqualTo(cid);
    }

    @Test
    void idsArePinnedSoThatAnUpgradeDoesNotRenameMembers() {
        // The ids are stored in the Raft log and snapshots: changing the function would make
        // restarted members unknown to their peers. Pin the values of the default configuration.
        ServerFlags f = ServerFlags.parse();
        assertThat(f.memberId()).isEqualTo(ServerFlags.memberId(
                "default", List.of(u("http://localhost:2380")), "etcd-cluster"));
        assertThat(Long.toHexString(f.memberId())).isEqualTo(PINNED_MEMBER_ID);
        assertThat(Long.toHexString(f.clusterId())).isEqualTo(PINNED_CLUSTER_ID);
    }

    private static final String PINNED_MEMBER_ID = "8ae5f6ea696f06b6";
    private static final String PINNED_CLUSTER_ID = "b79bee00a0ff2402";

    @Test
    void unknownMemberNameIsRefusedWhenAskingForItsId() {
        assertThatThrownBy(() -> ServerFlags.parse().memberId("nobody"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nobody");
    }

    @Test
    void recordIsImmutable() {
        ServerFlags f = ServerFlags.parse(THREE);
        assertThatThrownBy(() -> f.initialCluster().put("x", List.of()))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> f.initialCluster().get("n1").add(u("http://z:1")))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> f.listenClientUrls().clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }
}

package io.raftkv.e2e;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * /metrics carries the series etcd's Grafana dashboards query, with etcd's names and labels:
 * each is checked on raftkv, and on the real etcd 3.4 where it is installed (so the list itself
 * is proven to be etcd's).
 */
class MetricsIT {
    /** Series (name and, for gRPC, the labels a dashboard selects on) after one good and one bad Put. */
    private static final List<String> SERIES = List.of(
            "etcd_server_has_leader ",
            "etcd_server_is_leader ",
            "etcd_server_leader_changes_seen_total ",
            "etcd_server_proposals_committed_total ",
            "etcd_server_proposals_applied_total ",
            "etcd_server_proposals_pending ",
            "etcd_server_proposals_failed_total ",
            "etcd_disk_wal_fsync_duration_seconds_bucket{",
            "etcd_disk_backend_commit_duration_seconds_bucket{",
            "etcd_mvcc_db_total_size_in_bytes ",
            "grpc_server_started_total{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}",
            "grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}",
            "grpc_server_handled_total{grpc_code=\"InvalidArgument\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}",
            "grpc_server_msg_received_total{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}",
            "grpc_server_msg_sent_total{grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}");

    private static List<String> missing(LocalCluster c) throws Exception {
        assertThat(c.etcdctl("put", "m", "v").exitCode()).isZero();
        assertThat(c.etcdctl("put", "", "v").exitCode()).isNotZero();   // etcdserver: key is not provided
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(c.metricsUrl(0) + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        List<String> missing = new ArrayList<>();
        for (String s : SERIES) {
            if (body.lines().noneMatch(l -> l.startsWith(s))) {
                missing.add(s);
            }
        }
        return missing;
    }

    @Test
    void raftkvExportsTheSeriesEtcdsDashboardsUse() throws Exception {
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.RAFTKV, 1)) {
            assertThat(missing(c)).as("series missing from raftkv's /metrics").isEmpty();
        }
    }

    @Test
    void etcdItselfExportsEverySeriesOfTheList() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(EtcdctlCompatibilityIT.onPath("etcd"), "etcd is not installed");
        try (LocalCluster c = LocalCluster.start(LocalCluster.Kind.ETCD, 1)) {
            assertThat(missing(c)).as("series missing from etcd's /metrics (the list is wrong)").isEmpty();
        }
    }
}

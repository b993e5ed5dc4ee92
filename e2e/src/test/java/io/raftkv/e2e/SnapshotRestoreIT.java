package io.raftkv.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A snapshot saved by the real {@code etcdctl snapshot save} seeds a new cluster through
 * {@code raftkv snapshot restore}: the new cluster serves the same keys, values and revisions,
 * with its own members and cluster id, and continues at the next revision. A corrupted file is
 * refused.
 */
class SnapshotRestoreIT {
    @TempDir
    Path tmp;

    private static final Pattern REVISION = Pattern.compile("\"revision\":(\\d+)");
    private static final Pattern CLUSTER_ID = Pattern.compile("\"cluster_id\":(\\d+)");

    private static long field(Pattern p, String json) {
        Matcher m = p.matcher(json);
        assertThat(m.find()).as("%s in %s", p, json).isTrue();
        return Long.parseUnsignedLong(m.group(1));
    }

    /** Runs {@code raftkv snapshot restore} for member i of {@code target}. */
    private static LocalCluster.Result restore(Path file, LocalCluster target, int i) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", LocalCluster.jar().toString(), "snapshot", "restore", file.toString(),
                "--name", target.name(i), "--data-dir", target.dataDir(i).toString(),
                "--initial-cluster", target.initialCluster(), "--initial-cluster-token", target.token(),
                "--initial-advertise-peer-urls", target.peerUrl(i)));
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new LocalCluster.Result(p.exitValue(), out, err);
    }

    private static LocalCluster.Result ok(LocalCluster.Result r) {
        assertThat(r.exitCode()).as("exit code; stderr: %s", r.stderr()).isZero();
        return r;
    }

    @Test
    void aSavedSnapshotSeedsANewClusterWithTheSameKeysAndRevisions() throws Exception {
        Path file = tmp.resolve("backup.db");
        String before;
        long sourceRevision;
        long sourceClusterId;
        try (LocalCluster source = LocalCluster.start(LocalCluster.Kind.RAFTKV, 3)) {
            for (int i = 0; i < 30; i++) {
                ok(source.etcdctl("put", "k/" + i, "v" + i));
            }
            ok(source.etcdctl("put", "k/3", "rewritten"));
            ok(source.etcdctl("del", "k/1", "--prefix"));   // k/1, k/10..k/19
            before = ok(source.etcdctl("get", "k/", "--prefix", "-w", "json")).stdout();
            sourceRevision = field(REVISION, before);
            sourceClusterId = field(CLUSTER_ID, before);
            String save = ok(source.etcdctlAt(source.clientUrl(0), null, "snapshot", "save", file.toString())).stdout();
            assertThat(save).contains("Snapshot saved at " + file);
        }

        try (LocalCluster target = LocalCluster.prepare(LocalCluster.Kind.RAFTKV, 3)) {
            for (int i = 0; i < 3; i++) {
                assertThat(ok(restore(file, target, i)).stdout()).contains("restored snapshot");
            }
            target.startAll();
            String after = ok(target.etcdctl("get", "k/", "--prefix", "-w", "json")).stdout();
            assertThat(field(REVISION, after)).as("revision after restore").isEqualTo(sourceRevision);
            assertThat(after.replaceAll("\"header\":\\{[^}]*\\},", ""))
                    .as("keys, values, create/mod revisions and versions")
                    .isEqualTo(before.replaceAll("\"header\":\\{[^}]*\\},", ""));
            assertThat(field(CLUSTER_ID, after)).as("the new cluster has its own id").isNotEqualTo(sourceClusterId);
            String members = ok(target.etcdctl("member", "list")).stdout();
            for (int i = 0; i < 3; i++) {
                assertThat(members).contains(target.peerUrl(i));
            }
            String put = ok(target.etcdctl("put", "after-restore", "x", "-w", "json")).stdout();
            assertThat(field(REVISION, put)).as("the next write continues the revisions").isEqualTo(sourceRevision + 1);
        }
    }

    @Test
    void aCorruptedSnapshotIsRefusedAndLeavesNoDataDir() throws Exception {
        Path file = tmp.resolve("backup.db");
        try (LocalCluster source = LocalCluster.start(LocalCluster.Kind.RAFTKV, 1)) {
            ok(source.etcdctl("put", "k", "v"));
            ok(source.etcdctlAt(source.clientUrl(0), null, "snapshot", "save", file.toString()));
        }
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 3] ^= 0x40;
        Files.write(file, bytes);
        try (LocalCluster target = LocalCluster.prepare(LocalCluster.Kind.RAFTKV, 1)) {
            LocalCluster.Result r = restore(file, target, 0);
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.stderr()).contains("failed its integrity check");
            assertThat(target.dataDir(0)).doesNotExist();
        }
    }
}

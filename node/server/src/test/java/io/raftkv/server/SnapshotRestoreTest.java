package io.raftkv.server;

import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.PutRequest;
import io.raftkv.mvcc.RangeRequest;
import io.raftkv.mvcc.RocksDbKvStore;
import io.raftkv.server.grpc.MaintenanceService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SnapshotRestoreTest {
    @TempDir
    Path tmp;

    private static Bytes b(String s) {
        return Bytes.of(s);
    }

    /** A snapshot file as {@code etcdctl snapshot save} writes it: 3 puts at Raft indexes 1-3. */
    private Path savedSnapshot() throws Exception {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        try (RocksDbKvStore source = RocksDbKvStore.open(tmp.resolve("source"))) {
            source.put(1, PutRequest.of(b("a"), b("1"), 0));
            source.put(2, PutRequest.of(b("b"), b("2"), 0));
            source.put(3, PutRequest.of(b("a"), b("3"), 0));
            source.snapshot(stream);
        }
        Path file = tmp.resolve("snap.db");
        Files.write(file, MaintenanceService.etcdFraming(stream.toByteArray()));
        return file;
    }

    private record Outcome(int code, String out, String err) {
    }

    private static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SnapshotRestore.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String[] restoreArgs(Path file, Path dataDir) {
        return new String[] {"snapshot", "restore", file.toString(), "--name", "n1", "--data-dir", dataDir.toString(),
                "--initial-cluster", "n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2390",
                "--initial-cluster-token", "restored", "--initial-advertise-peer-urls", "http://127.0.0.1:2380"};
    }

    @Test
    void restoredDataDirHoldsTheSnapshotsKeysAndRevisionsReadyForANewLog() throws Exception {
        Path data = tmp.resolve("n1.etcd");
        Outcome o = run(restoreArgs(savedSnapshot(), data));
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(Files.readString(data.resolve("member/kv.current"))).isEqualTo("kv-0");
        try (RocksDbKvStore store = RocksDbKvStore.open(data.resolve("member/kv-0"), MvccOptions.defaults())) {
            assertThat(store.appliedIndex()).isZero();
            assertThat(store.currentRevision()).isEqualTo(4);
            assertThat(store.range(RangeRequest.all()).kvs()).extracting(kv -> new String(kv.value().toByteArray(), StandardCharsets.UTF_8))
                    .containsExactly("3", "2");
        }
    }

    @Test
    void aFlippedByteFailsTheIntegrityCheckAndLeavesNoDataDir() throws Exception {
        Path file = savedSnapshot();
        byte[] bytes = Files.readAllBytes(file);
        bytes[20] ^= 0x01;
        Files.write(file, bytes);
        Path data = tmp.resolve("n1.etcd");
        Outcome o = run(restoreArgs(file, data));
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).contains("failed its integrity check: expected sha256");
        assertThat(data).doesNotExist();
    }

    @Test
    void aTruncatedFileIsRefused() throws Exception {
        Path file = savedSnapshot();
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        Outcome o = run(restoreArgs(file, tmp.resolve("n1.etcd")));
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).contains("has no SHA-256 trailer");
    }

    @Test
    void anExistingDataDirIsNeverOverwritten() throws Exception {
        Path data = tmp.resolve("n1.etcd");
        Files.createDirectories(data);
        Files.writeString(data.resolve("keep"), "x");
        Outcome o = run(restoreArgs(savedSnapshot(), data));
        assertThat(o.code()).isEqualTo(1);
        assertThat(o.err()).contains("data-dir \"" + data + "\" exists");
        assertThat(data.resolve("keep")).hasContent("x");
    }

    @Test
    void flagsOfARunningNodeAreRefusedWithUsage() throws Exception {
        Outcome o = run("snapshot", "restore", savedSnapshot().toString(), "--listen-client-urls", "http://127.0.0.1:2379");
        assertThat(o.code()).isEqualTo(ServerFlags.USAGE_EXIT_CODE);
        assertThat(o.err()).contains("unknown flag: --listen-client-urls");
    }
}

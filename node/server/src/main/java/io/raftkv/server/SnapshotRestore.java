package io.raftkv.server;

import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.RocksDbKvStore;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code raftkv snapshot restore <file> [flags]}: seeds one member's data dir of a NEW cluster from
 * a snapshot saved by {@code etcdctl snapshot save} (Maintenance/Snapshot), as etcd's
 * {@code snapshot restore} does. Keys, revisions, history and leases come from the snapshot; the
 * member table comes from --initial-cluster, and the cluster gets a new id. Run it once per
 * member, with the same file and flags except --name (and --data-dir, --initial-advertise-peer-urls),
 * then start each member with its usual flags and {@code --initial-cluster-state new}.
 *
 * <p>The file's SHA-256 trailer (etcd's framing) is verified first; a mismatch or a corrupt
 * stream is reported with the reason and leaves no data dir behind.
 */
public final class SnapshotRestore {
    /** The node flags that matter to a restore (etcd's snapshot restore flags). */
    static final Set<String> FLAGS = Set.of("name", "data-dir", "initial-cluster", "initial-cluster-token",
            "initial-advertise-peer-urls");
    private static final int SHA256_BYTES = 32;
    private static final int PAGE_BYTES = 512;

    private SnapshotRestore() {
    }

    /** Whether {@code args} ask for this command rather than for running a node. */
    static boolean isCommand(String... args) {
        return args.length >= 2 && args[0].equals("snapshot") && args[1].equals("restore");
    }

    /** Runs {@code snapshot restore <file> [flags]}; returns the process exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> flags = new ArrayList<>();
        String file = null;
        for (int i = 2; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("-")) {
                if (file != null) {
                    err.println("raftkv snapshot restore: one snapshot file expected, got '" + file + "' and '" + a + "'");
                    return ServerFlags.USAGE_EXIT_CODE;
                }
                file = a;
                continue;
            }
            String name = a.replaceFirst("^--?", "").split("=", 2)[0];
            if (!FLAGS.contains(name)) {
                err.println("raftkv snapshot restore: unknown flag: " + a + " (accepted: --" + String.join(", --", FLAGS.stream().sorted().toList()) + ")");
                return ServerFlags.USAGE_EXIT_CODE;
            }
            flags.add(a);
            if (!a.contains("=") && i + 1 < args.length) {
                flags.add(args[++i]);
            }
        }
        if (file == null) {
            err.println("raftkv snapshot restore: snapshot file path required\n"
                    + "Usage: raftkv snapshot restore <file> --name <name> --data-dir <dir> --initial-cluster <name=url,...>"
                    + " --initial-cluster-token <token> --initial-advertise-peer-urls <urls>");
            return ServerFlags.USAGE_EXIT_CODE;
        }
        ServerFlags f;
        try {
            f = ServerFlags.parse(flags.toArray(String[]::new));
        } catch (ServerFlags.FlagException e) {
            err.println("raftkv snapshot restore: " + e.getMessage());
            return e.exitCode();
        }
        if (f == null) {
            out.println("Usage: raftkv snapshot restore <file> [--" + String.join(" --", FLAGS.stream().sorted().toList()) + "]");
            return 0;
        }
        try {
            restore(Path.of(file), f.dataDir());
        } catch (IOException | RuntimeException e) {
            err.println("raftkv snapshot restore: " + e.getMessage());
            return 1;
        }
        out.printf("restored snapshot %s to %s as member %s of a new cluster (%s)%n",
                file, f.dataDir(), f.name(), f.initialCluster().keySet());
        return 0;
    }

    /** Verifies {@code file} and restores it into the empty or missing {@code dataDir}. */
    static void restore(Path file, Path dataDir) throws IOException {
        if (Files.isDirectory(dataDir)) {
            try (Stream<Path> entries = Files.list(dataDir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException("data-dir \"" + dataDir + "\" exists");
                }
            }
        }
        long size = Files.size(file);
        verifyIntegrity(file, size);
        Path store = dataDir.resolve("member").resolve("kv-0");
        Files.createDirectories(store.getParent());
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file));
             RocksDbKvStore restored = RocksDbKvStore.restoreForNewCluster(in, store, MvccOptions.defaults())) {
            Files.writeString(dataDir.resolve("member").resolve("kv.current"), "kv-0");
        } catch (IOException | RuntimeException e) {
            deleteTree(dataDir);
            throw new IOException("snapshot " + file + " is corrupt: " + e.getMessage(), e);
        }
    }

    /** etcd's framing: data padded to 512 bytes, then the SHA-256 of the padded data. */
    private static void verifyIntegrity(Path file, long size) throws IOException {
        if (size < SHA256_BYTES || (size - SHA256_BYTES) % PAGE_BYTES != 0) {
            throw new IOException("snapshot " + file + " has no SHA-256 trailer (size " + size
                    + " is not a multiple of " + PAGE_BYTES + " plus " + SHA256_BYTES + ")");
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] trailer = new byte[SHA256_BYTES];
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            byte[] buf = new byte[1 << 16];
            long left = size - SHA256_BYTES;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException("snapshot " + file + " ended early");
                }
                sha.update(buf, 0, n);
                left -= n;
            }
            if (in.readNBytes(trailer, 0, SHA256_BYTES) != SHA256_BYTES) {
                throw new IOException("snapshot " + file + " ended early");
            }
        }
        byte[] actual = sha.digest();
        if (!MessageDigest.isEqual(actual, trailer)) {
            throw new IOException("snapshot " + file + " failed its integrity check: expected sha256 "
                    + HexFormat.of().formatHex(trailer) + ", got " + HexFormat.of().formatHex(actual));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package io.raftkv.server.node;

import io.raftkv.server.api.etcd.Member;
import io.raftkv.server.api.internal.MemberTableChange;
import io.raftkv.server.api.internal.MemberTableFile;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster's members (id, name, peer and client URLs), following the log: configuration
 * entries carry the changes in their context, and every node applies them in log order. Persisted
 * atomically (write, fsync, rename) with the index it reflects, so that re-applying an entry at
 * or below that index after a crash changes nothing.
 *
 * <p>Written only by the driver thread; read by any thread through {@link #snapshot()}, which
 * returns an immutable view.
 */
public final class MemberTable {
    private final Path file;
    private volatile Map<Long, Member> members = Map.of();
    private volatile long appliedIndex;
    private volatile long clusterId;
    private volatile java.util.Set<Long> removed = java.util.Set.of();

    private MemberTable(Path file) {
        this.file = file;
    }

    /** Loads the table from {@code dataDir/members.pb}, or an empty table if there is none. */
    public static MemberTable open(Path dataDir) throws IOException {
        MemberTable t = new MemberTable(dataDir.resolve("members.pb"));
        if (Files.exists(t.file)) {
            t.load(MemberTableFile.parseFrom(Files.readAllBytes(t.file)));
        }
        return t;
    }

    private void load(MemberTableFile f) {
        TreeMap<Long, Member> m = new TreeMap<>();
        for (Member member : f.getMembersList()) {
            m.put(member.getID(), member);
        }
        members = Map.copyOf(m);
        appliedIndex = f.getAppliedIndex();
        clusterId = f.getClusterId();
        removed = java.util.Set.copyOf(f.getRemovedList());
    }

    /** The cluster id recorded by the bootstrap entry (0 if not known yet). */
    public long clusterId() {
        return clusterId;
    }

    /** Ids of members removed from the cluster. */
    public java.util.Set<Long> removed() {
        return removed;
    }

    /** The index of the last change reflected. */
    public long appliedIndex() {
        return appliedIndex;
    }

    /** Immutable view of the members by id. */
    public Map<Long, Member> snapshot() {
        return members;
    }

    /** The members in id order. */
    public Collection<Member> list() {
        return new TreeMap<>(members).values();
    }

    /** Applies a change from the entry at {@code index}; does nothing if already reflected. */
    public void apply(long index, MemberTableChange change) {
        if (index <= appliedIndex) {
            return;
        }
        TreeMap<Long, Member> m = new TreeMap<>(members);
        for (Member u : change.getUpsertsList()) {
            Member old = m.get(u.getID());
            Member merged = u;
            if (old != null) {
                Member.Builder b = old.toBuilder();
                if (!u.getName().isEmpty()) {
                    b.setName(u.getName());
                }
                if (u.getPeerURLsCount() > 0) {
                    b.clearPeerURLs().addAllPeerURLs(u.getPeerURLsList());
                }
                if (u.getClientURLsCount() > 0) {
                    b.clearClientURLs().addAllClientURLs(u.getClientURLsList());
                }
                merged = b.build();
            }
            m.put(u.getID(), merged);
        }
        java.util.Set<Long> gone = new java.util.HashSet<>(removed);
        for (long r : change.getRemovesList()) {
            m.remove(r);
            gone.add(r);
        }
        if (change.getClusterId() != 0) {
            clusterId = change.getClusterId();
        }
        removed = java.util.Set.copyOf(gone);
        write(index, m);
    }

    /** Replaces the whole table (from a snapshot). */
    public void replace(MemberTableFile f) {
        TreeMap<Long, Member> m = new TreeMap<>();
        for (Member member : f.getMembersList()) {
            m.put(member.getID(), member);
        }
        if (f.getClusterId() != 0) {
            clusterId = f.getClusterId();
        }
        removed = java.util.Set.copyOf(f.getRemovedList());
        write(f.getAppliedIndex(), m);
    }

    /** The table as a file record, for snapshots. */
    public MemberTableFile toFile() {
        return MemberTableFile.newBuilder().setAppliedIndex(appliedIndex).addAllMembers(list())
                .setClusterId(clusterId).addAllRemoved(removed).build();
    }

    private void write(long index, TreeMap<Long, Member> m) {
        MemberTableFile f = MemberTableFile.newBuilder().setAppliedIndex(index).addAllMembers(m.values())
                .setClusterId(clusterId).addAllRemoved(removed).build();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                f.writeTo(out);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist member table " + file, e);
        }
        members = Map.copyOf(m);
        appliedIndex = index;
    }
}

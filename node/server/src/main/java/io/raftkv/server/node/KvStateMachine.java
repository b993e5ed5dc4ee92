package io.raftkv.server.node;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.raftkv.mvcc.KvStore;
import io.raftkv.mvcc.Lease;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.mvcc.RevisionListener;
import io.raftkv.mvcc.RocksDbKvStore;
import io.raftkv.raft.ConfChange;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.etcd.LeaseCheckpoint;
import io.raftkv.server.api.etcd.Member;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.api.internal.MemberTableChange;
import io.raftkv.server.api.internal.SnapshotPayload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The node's replicated state machine: the MVCC store plus the member table. Applies committed
 * entries on the driver thread; the store is exactly-once per Raft index, so entries re-delivered
 * after a crash or a snapshot change nothing.
 *
 * <p>The store lives in {@code dataDir/kv-<n>}; {@code dataDir/kv.current} names the live one, so
 * that a snapshot from the leader is restored into a new directory and switched to atomically.
 */
public final class KvStateMachine implements RaftDriver.StateMachine, AutoCloseable {
    private final Path dataDir;
    private final MvccOptions options;
    private final MemberTable members;
    private final AtomicReference<KvStore> store = new AtomicReference<>();
    /** Revision listeners, registered again on every store a snapshot installs. */
    private final List<RevisionListener> revisionListeners = new CopyOnWriteArrayList<>();
    /** Run on the driver thread after a snapshot replaced the store. */
    private final List<Runnable> storeReplacedHooks = new CopyOnWriteArrayList<>();
    /** Called after the member table changes (to update the transport's peer list). */
    private volatile Runnable onMembersChanged = () -> { };
    /** See {@link #appendedMembers()}. */
    private final Map<Long, Member> appendedMembers = new ConcurrentHashMap<>();
    private volatile LeaseListener leaseListener = new LeaseListener() { };

    /**
     * Told about lease entries that took effect (not about replays of entries already in the
     * store, nor refused ones); called on the driver thread right after the store applied them.
     * The leader's lessor follows the store through this. Must be quick and must not throw.
     */
    public interface LeaseListener {
        /** Lease {@code id} was granted with {@code ttlSeconds}. */
        default void granted(long id, long ttlSeconds) {
        }

        /** Lease {@code id} was revoked. */
        default void revoked(long id) {
        }

        /** The store now holds {@code remainingTtlSeconds} as lease {@code id}'s checkpoint. */
        default void checkpointed(long id, long remainingTtlSeconds) {
        }
    }

    /** Opens (or creates) the state machine in {@code dataDir}. */
    public KvStateMachine(Path dataDir, MvccOptions options, MemberTable members) throws IOException {
        this.dataDir = dataDir;
        this.options = options;
        this.members = members;
        Path pointer = dataDir.resolve("kv.current");
        String current = Files.exists(pointer) ? Files.readString(pointer).trim() : "kv-0";
        store.set(RocksDbKvStore.open(dataDir.resolve(current), options));
        if (!Files.exists(pointer)) {
            writePointer(current);
        }
    }

    /** The live store; may change when a snapshot is installed, so fetch it per request. */
    public KvStore store() {
        return store.get();
    }

    /** The member table. */
    public MemberTable members() {
        return members;
    }

    /**
     * Registers {@code listener} with the live store and with every store that replaces it, and
     * runs {@code onReplaced} (on the driver thread; it must not block) after each replacement, so
     * that the watch hub survives a snapshot install. Call before the driver starts.
     */
    public void watchStore(RevisionListener listener, Runnable onReplaced) {
        revisionListeners.add(listener);
        storeReplacedHooks.add(onReplaced);
        store.get().addRevisionListener(listener);
    }

    /** Sets the hook run after the member table changes. */
    public void onMembersChanged(Runnable r) {
        this.onMembersChanged = r;
    }

    /** Sets the lease listener (before the driver starts). */
    public void onLeaseApplied(LeaseListener l) {
        this.leaseListener = l;
    }

    @Override
    public Object apply(long index, byte[] data) {
        InternalRequest r = parse(data);
        KvStore s = store.get();
        boolean fresh = index > s.appliedIndex();
        switch (r.getRequestCase()) {
            case PUT:
                return s.put(index, EtcdCodec.toMvcc(r.getPut()));
            case DELETE_RANGE:
                return s.deleteRange(index, EtcdCodec.toMvcc(r.getDeleteRange()));
            case TXN:
                return s.txn(index, EtcdCodec.toMvcc(r.getTxn()));
            case COMPACTION:
                return s.compact(index, r.getCompaction().getRevision());
            case LEASE_GRANT: {
                Lease lease = s.leaseGrant(index, r.getLeaseGrant().getID(), r.getLeaseGrant().getTTL());
                if (fresh) {
                    leaseListener.granted(lease.id(), lease.ttlSeconds());
                }
                return lease;
            }
            case LEASE_REVOKE: {
                var revoked = s.leaseRevoke(index, r.getLeaseRevoke().getID());
                leaseListener.revoked(r.getLeaseRevoke().getID());
                return revoked;
            }
            case LEASE_CHECKPOINT: {
                Map<Long, Long> checkpoints = new LinkedHashMap<>();
                for (LeaseCheckpoint c : r.getLeaseCheckpoint().getCheckpointsList()) {
                    checkpoints.put(c.getID(), c.getRemainingTTL());
                }
                int recorded = s.leaseCheckpoints(index, checkpoints);
                if (fresh) {
                    checkpoints.forEach(leaseListener::checkpointed);
                }
                return recorded;
            }
            case MEMBER_ATTRIBUTES: {
                members.apply(index, MemberTableChange.newBuilder().addUpserts(r.getMemberAttributes()).build());
                s.markApplied(index);
                onMembersChanged.run();
                return index;
            }
            case MEMBER_UPDATE: {
                Member m = Member.newBuilder().setID(r.getMemberUpdate().getID())
                        .addAllPeerURLs(r.getMemberUpdate().getPeerURLsList()).build();
                if (members.snapshot().containsKey(m.getID())) {
                    members.apply(index, MemberTableChange.newBuilder().addUpserts(m).build());
                }
                s.markApplied(index);
                onMembersChanged.run();
                return index;
            }
            default:
                s.markApplied(index);
                return index;
        }
    }

    @Override
    public void applyConfChange(long index, ConfChange cc) {
        if (cc.context().length > 0) {
            members.apply(index, parseChange(cc.context()));
            appendedMembers.clear();
            onMembersChanged.run();
        }
        store.get().markApplied(index);
    }

    /** Remembers the members a durable, unapplied configuration entry adds, so their peers can be reached. */
    @Override
    public void confChangeAppended(ConfChange cc) {
        if (cc.context().length == 0) {
            return;
        }
        boolean added = false;
        for (Member m : parseChange(cc.context()).getUpsertsList()) {
            added |= appendedMembers.put(m.getID(), m) == null;
        }
        if (added) {
            onMembersChanged.run();
        }
    }

    /**
     * Members named by a configuration entry that is durable but not applied yet (Raft thesis §4.1:
     * it already counts for quorums); empty once a configuration entry is applied. Safe from any thread.
     */
    public Collection<Member> appendedMembers() {
        return List.copyOf(appendedMembers.values());
    }

    @Override
    public void applyNoop(long index) {
        store.get().markApplied(index);
    }

    @Override
    public long requestId(byte[] data) {
        // Only field 1 (id); the request itself is parsed once, by apply.
        try {
            CodedInputStream in = CodedInputStream.newInstance(data);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == ID_TAG) {
                    return in.readUInt64();
                }
                if (!in.skipField(tag)) {
                    break;
                }
            }
            return 0;
        } catch (IOException e) {
            throw new IllegalStateException("committed entry is not a valid request", e);
        }
    }

    /** InternalRequest.id: field 1, varint. */
    private static final int ID_TAG = (InternalRequest.ID_FIELD_NUMBER << 3) | 0;

    @Override
    public long confRequestId(ConfChange cc) {
        return cc.context().length == 0 ? 0 : parseChange(cc.context()).getRequestId();
    }

    @Override
    public byte[] snapshotPayload() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            store.get().snapshot(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot snapshot the store", e);
        }
        return SnapshotPayload.newBuilder().setMembers(members.toFile())
                .setStore(com.google.protobuf.ByteString.copyFrom(out.toByteArray())).build().toByteArray();
    }

    @Override
    public void installSnapshot(long index, byte[] payload) {
        SnapshotPayload p;
        try {
            p = SnapshotPayload.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("snapshot payload at index " + index + " is corrupt", e);
        }
        try {
            String next = "kv-" + index + "-" + System.nanoTime();
            KvStore restored = RocksDbKvStore.restore(p.getStore().newInput(), dataDir.resolve(next), options);
            for (RevisionListener l : revisionListeners) {
                restored.addRevisionListener(l);
            }
            KvStore old = store.getAndSet(restored);
            for (Runnable hook : storeReplacedHooks) {
                hook.run();
            }
            writePointer(next);
            members.replace(p.getMembers());
            onMembersChanged.run();
            if (old != null) {
                old.close();
            }
            deleteOtherStores(next);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install snapshot at index " + index, e);
        }
    }

    /** Makes every applied entry durable now (a blocking flush). */
    public void sync() {
        store.get().sync();
    }

    @Override
    public void startSync() {
        store.get().startSync();
    }

    @Override
    public long durableIndex() {
        return store.get().durableIndex();
    }

    @Override
    public byte[] localSnapshotData() {
        return new byte[0];
    }

    private void writePointer(String name) throws IOException {
        Path tmp = dataDir.resolve("kv.current.tmp");
        Files.writeString(tmp, name);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, dataDir.resolve("kv.current"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private void deleteOtherStores(String keep) throws IOException {
        try (Stream<Path> dirs = Files.list(dataDir)) {
            for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith("kv-")
                    && !p.getFileName().toString().equals(keep)).toList()) {
                try (Stream<Path> walk = Files.walk(d)) {
                    for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    /** Parses a committed entry's request; its bytes fields are views of {@code data}. */
    static InternalRequest parse(byte[] data) {
        try {
            // Aliasing: bytes fields are views of the entry instead of copies (the store copies
            // what it keeps, once). Protobuf aliases only input it was told is immutable, which a
            // wrapped ByteString is and a plain byte[] is not; nothing writes to an entry's data.
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(data).newCodedInput();
            in.enableAliasing(true);
            return InternalRequest.parseFrom(in);
        } catch (IOException e) {
            throw new IllegalStateException("committed entry is not a valid request", e);
        }
    }

    private static MemberTableChange parseChange(byte[] ctx) {
        try {
            return MemberTableChange.parseFrom(ctx);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("configuration change context is corrupt", e);
        }
    }

    @Override
    public void close() {
        KvStore s = store.getAndSet(null);
        if (s != null) {
            s.close();
        }
    }
}

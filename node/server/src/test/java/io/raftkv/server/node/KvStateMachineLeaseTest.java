package io.raftkv.server.node;

import com.google.protobuf.ByteString;
import io.raftkv.mvcc.Bytes;
import io.raftkv.mvcc.Lease;
import io.raftkv.mvcc.MvccOptions;
import io.raftkv.server.api.etcd.LeaseCheckpoint;
import io.raftkv.server.api.etcd.LeaseCheckpointRequest;
import io.raftkv.server.api.etcd.LeaseGrantRequest;
import io.raftkv.server.api.etcd.LeaseRevokeRequest;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.lease.Lessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lease entries through the state machine: the lessor hears about entries that took effect (not
 * replays), and leases with their checkpoints and keys travel in a snapshot to a replaced store,
 * from which a promoted lessor resumes the checkpointed remaining TTL.
 */
class KvStateMachineLeaseTest {
    @TempDir
    Path dir;

    private static byte[] entry(InternalRequest.Builder r) {
        return r.setId(1).build().toByteArray();
    }

    private static final class Recorder implements KvStateMachine.LeaseListener {
        final List<String> seen = new ArrayList<>();

        @Override
        public void granted(long id, long ttlSeconds) {
            seen.add("grant " + id + " " + ttlSeconds);
        }

        @Override
        public void revoked(long id) {
            seen.add("revoke " + id);
        }

        @Override
        public void checkpointed(long id, long remainingTtlSeconds) {
            seen.add("checkpoint " + id + " " + remainingTtlSeconds);
        }
    }

    @Test
    void leasesTheirCheckpointsAndKeysSurviveASnapshotInstallAndReplaysAreNotReported() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        java.nio.file.Files.createDirectories(a);
        java.nio.file.Files.createDirectories(b);
        try (KvStateMachine leader = new KvStateMachine(a, MvccOptions.defaults(), MemberTable.open(a));
             KvStateMachine follower = new KvStateMachine(b, MvccOptions.defaults(), MemberTable.open(b))) {
            Recorder r = new Recorder();
            leader.onLeaseApplied(r);
            byte[] checkpoint = entry(InternalRequest.newBuilder().setLeaseCheckpoint(LeaseCheckpointRequest.newBuilder()
                    .addCheckpoints(LeaseCheckpoint.newBuilder().setID(7).setRemainingTTL(42))));
            leader.apply(1, entry(InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(60))));
            leader.apply(2, entry(InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(8).setTTL(60))));
            leader.apply(3, entry(InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).setLease(7))));
            leader.apply(4, checkpoint);
            leader.apply(5, entry(InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("j1")).setValue(ByteString.copyFromUtf8("v")).setLease(8))));
            leader.apply(6, entry(InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("j2")).setValue(ByteString.copyFromUtf8("v")).setLease(8))));
            long before = leader.store().currentRevision();
            leader.apply(7, entry(InternalRequest.newBuilder().setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(8))));
            // the revoke deletes both keys in one revision: two DELETE events at before + 1
            assertThat(leader.store().currentRevision()).isEqualTo(before + 1);
            assertThat(leader.store().events(before + 1, before + 1)).extracting(e -> e.type() + " " + e.kv().key())
                    .containsExactly("DELETE " + Bytes.of("j1"), "DELETE " + Bytes.of("j2"));
            leader.apply(4, checkpoint); // a replay: already in the store
            leader.apply(1, entry(InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(60))));
            assertThat(r.seen).containsExactly("grant 7 60", "grant 8 60", "checkpoint 7 42", "revoke 8");

            follower.installSnapshot(7, leader.snapshotPayload());
            assertThat(follower.store().leases()).containsExactly(new Lease(7, 60, 42));
            assertThat(follower.store().leaseTimeToLive(7, true).keys())
                    .containsExactly(Bytes.of("k"));

            long[] now = {0};
            Lessor lessor = new Lessor(() -> now[0], Lessor.Settings.forElectionTimeout(300));
            lessor.promote(2, follower.store().leases());
            assertThat(lessor.remainingNanos(7)).hasValue(TimeUnit.MILLISECONDS.toNanos(42_300));
        }
    }
}

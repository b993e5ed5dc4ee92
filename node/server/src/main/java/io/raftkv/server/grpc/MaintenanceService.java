package io.raftkv.server.grpc;

import com.google.protobuf.ByteString;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.mvcc.Alarm;
import io.raftkv.mvcc.HashKvResult;
import io.raftkv.raft.Role;
import io.raftkv.server.api.EtcdErrors;
import io.raftkv.server.api.etcd.AlarmMember;
import io.raftkv.server.api.etcd.AlarmRequest;
import io.raftkv.server.api.etcd.AlarmResponse;
import io.raftkv.server.api.etcd.AlarmType;
import io.raftkv.server.api.etcd.DefragmentRequest;
import io.raftkv.server.api.etcd.DefragmentResponse;
import io.raftkv.server.api.etcd.HashKVRequest;
import io.raftkv.server.api.etcd.HashKVResponse;
import io.raftkv.server.api.etcd.HashRequest;
import io.raftkv.server.api.etcd.HashResponse;
import io.raftkv.server.api.etcd.MaintenanceGrpc;
import io.raftkv.server.api.etcd.MoveLeaderRequest;
import io.raftkv.server.api.etcd.MoveLeaderResponse;
import io.raftkv.server.api.etcd.SnapshotRequest;
import io.raftkv.server.api.etcd.SnapshotResponse;
import io.raftkv.server.api.etcd.StatusRequest;
import io.raftkv.server.api.etcd.StatusResponse;
import io.raftkv.server.node.NodeRuntime;
import io.raftkv.server.node.RaftDriver;
import jakarta.inject.Inject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * etcd's Maintenance service. Status reports the Raft and store state; Defragment returns at once
 * because space is reclaimed in the background; alarms clear themselves once space is freed, so
 * DEACTIVATE only reports what remains.
 */
@GrpcService
public class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }
    /** The API level raftkv implements, with raftkv's own version as build metadata. */
    public static final String VERSION = "3.4.23+raftkv.0.1.0";

    @Inject
    NodeRuntime node;

    @Override
    public void status(StatusRequest req, StreamObserver<StatusResponse> obs) {
        Replies.handle(obs, () -> {
            RaftDriver.Status s = node.driver().status();
            var store = node.machine().store();
            StatusResponse.Builder b = StatusResponse.newBuilder()
                    .setHeader(node.header(store.currentRevision()))
                    .setVersion(VERSION)
                    .setDbSize(store.dbSizeBytes())
                    .setDbSizeInUse(store.dbSizeBytes())
                    .setLeader(s.leader())
                    .setRaftIndex(s.commitIndex())
                    .setRaftTerm(s.term())
                    .setRaftAppliedIndex(s.appliedIndex())
                    .setIsLearner(s.learner());
            for (Alarm a : store.alarms()) {
                b.addErrors("memberID:" + Long.toUnsignedString(node.memberId()) + " alarm:" + a.name() + " ");
            }
            return CompletableFuture.completedFuture(b.build());
        });
    }

    @Override
    public void alarm(AlarmRequest req, StreamObserver<AlarmResponse> obs) {
        Replies.handle(obs, () -> {
            AlarmResponse.Builder b = AlarmResponse.newBuilder().setHeader(node.header(0));
            for (Alarm a : node.machine().store().alarms()) {
                b.addAlarms(AlarmMember.newBuilder().setMemberID(node.memberId())
                        .setAlarm(a == Alarm.NOSPACE ? AlarmType.NOSPACE : AlarmType.NONE));
            }
            return CompletableFuture.completedFuture(b.build());
        });
    }

    @Override
    public void defragment(DefragmentRequest req, StreamObserver<DefragmentResponse> obs) {
        obs.onNext(DefragmentResponse.newBuilder().setHeader(node.header(0)).build());
        obs.onCompleted();
    }

    @Override
    public void hash(HashRequest req, StreamObserver<HashResponse> obs) {
        Replies.handle(obs, () -> CompletableFuture.supplyAsync(() -> {
            HashKvResult h = node.machine().store().hash(0);
            return HashResponse.newBuilder().setHeader(node.header(h.revision())).setHash((int) h.hash()).build();
        }, node.readExecutor()));
    }

    @Override
    public void hashKV(HashKVRequest req, StreamObserver<HashKVResponse> obs) {
        Replies.handle(obs, () -> CompletableFuture.supplyAsync(() -> {
            HashKvResult h = node.machine().store().hash(req.getRevision());
            return HashKVResponse.newBuilder().setHeader(node.header(h.revision())).setHash((int) h.hash())
                    .setCompactRevision(h.compactRevision()).build();
        }, node.readExecutor()));
    }

    @Override
    public void snapshot(SnapshotRequest req, StreamObserver<SnapshotResponse> obs) {
        node.readExecutor().execute(() -> {
            try {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                var store = node.machine().store();
                store.snapshot(buf);
                byte[] all = etcdFraming(buf.toByteArray());
                int chunk = 1 << 20;
                ServerCallStreamObserver<SnapshotResponse> call = (ServerCallStreamObserver<SnapshotResponse>) obs;
                for (int off = 0; off < all.length; off += chunk) {
                    int len = Math.min(chunk, all.length - off);
                    while (!call.isReady() && !call.isCancelled()) {
                        TimeUnit.MILLISECONDS.sleep(1); // flow control: wait for the client to drain
                    }
                    obs.onNext(SnapshotResponse.newBuilder().setHeader(node.header(store.currentRevision()))
                            .setRemainingBytes(all.length - off - len)
                            .setBlob(ByteString.copyFrom(all, off, len)).build());
                }
                obs.onCompleted();
            } catch (IOException | RuntimeException e) {
                obs.onError(Replies.toStatus(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                obs.onError(EtcdErrors.STOPPED.exception());
            }
        });
    }

    /**
     * etcd's snapshot stream framing, which {@code etcdctl snapshot save} checks: the data padded
     * with zeros to a multiple of 512 bytes (bbolt's page size), followed by the SHA-256 of the
     * padded data. raftkv's snapshot format ends with its own end marker, so the padding is inert.
     */
    public static byte[] etcdFraming(byte[] data) {
        int padded = (data.length + 511) / 512 * 512;
        byte[] out = java.util.Arrays.copyOf(data, padded + 32);
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            sha.update(out, 0, padded);
            System.arraycopy(sha.digest(), 0, out, padded, 32);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    @Override
    public void moveLeader(MoveLeaderRequest req, StreamObserver<MoveLeaderResponse> obs) {
        Replies.handle(obs, () -> {
            long target = req.getTargetID();
            return node.driver().call(raft -> {
                if (raft.role() != Role.LEADER) {
                    throw EtcdErrors.NOT_LEADER.exception();
                }
                if (!raft.confState().voters().contains(target)) {
                    throw EtcdErrors.BAD_LEADER_TRANSFEREE.exception();
                }
                raft.transferLeadership(target);
                return target;
            }).thenCompose(t -> node.awaitLeader(t)).thenApply(l -> {
                if (l != target) {
                    throw EtcdErrors.TIMEOUT.exception();
                }
                return MoveLeaderResponse.newBuilder().setHeader(node.header(0)).build();
            });
        });
    }

}

package io.raftkv.server.grpc;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.raftkv.server.api.EtcdCodec;
import io.raftkv.server.api.etcd.CompactionRequest;
import io.raftkv.server.api.etcd.CompactionResponse;
import io.raftkv.server.api.etcd.DeleteRangeRequest;
import io.raftkv.server.api.etcd.DeleteRangeResponse;
import io.raftkv.server.api.etcd.KVGrpc;
import io.raftkv.server.api.etcd.PutRequest;
import io.raftkv.server.api.etcd.PutResponse;
import io.raftkv.server.api.etcd.RangeRequest;
import io.raftkv.server.api.etcd.RangeResponse;
import io.raftkv.server.api.etcd.TxnRequest;
import io.raftkv.server.api.etcd.TxnResponse;
import io.raftkv.server.api.internal.InternalRequest;
import io.raftkv.server.node.NodeRuntime;
import jakarta.inject.Inject;

import java.util.concurrent.CompletableFuture;

/**
 * etcd's KV service. Writes go through the Raft log and reply after they are applied here;
 * linearizable ranges wait for a ReadIndex round (batched with concurrent reads); serializable
 * ranges read the local store at once and may be stale on a follower or a partitioned node.
 */
@GrpcService
public class KvService extends KVGrpc.KVImplBase {

    /** Binds the service with malformed request bodies refused as etcd refuses them. */
    @Override
    public ServerServiceDefinition bindService() {
        return MalformedRequests.guard(super.bindService());
    }

    @Inject
    NodeRuntime node;

    @Override
    public void range(RangeRequest req, StreamObserver<RangeResponse> obs) {
        Replies.handle(obs, () -> {
            EtcdCodec.validate(req);
            if (req.getSerializable()) {
                // A local read needs no hand-off to another thread: each hand-off is a wake-up
                // that costs more than the read itself when the CPUs are busy.
                return CompletableFuture.completedFuture(serve(req));
            }
            return node.timeout(node.driver().readIndex().thenApplyAsync(i -> serve(req), node.readExecutor()));
        });
    }

    private RangeResponse serve(RangeRequest req) {
        var resp = node.machine().store().range(EtcdCodec.toMvcc(req));
        return EtcdCodec.toProto(resp, node.header(resp.revision()));
    }

    @Override
    public void put(PutRequest req, StreamObserver<PutResponse> obs) {
        Replies.handle(obs, () -> {
            EtcdCodec.validate(req);
            return node.propose(InternalRequest.newBuilder().setPut(req), req.getSerializedSize())
                    .thenApply(r -> {
                        var resp = (io.raftkv.mvcc.PutResponse) r;
                        return EtcdCodec.toProto(resp, node.header(resp.revision()));
                    });
        });
    }

    @Override
    public void deleteRange(DeleteRangeRequest req, StreamObserver<DeleteRangeResponse> obs) {
        Replies.handle(obs, () -> {
            EtcdCodec.validate(req);
            return node.propose(InternalRequest.newBuilder().setDeleteRange(req), req.getSerializedSize())
                    .thenApply(r -> {
                        var resp = (io.raftkv.mvcc.DeleteRangeResponse) r;
                        return EtcdCodec.toProto(resp, node.header(resp.revision()));
                    });
        });
    }

    @Override
    public void txn(TxnRequest req, StreamObserver<TxnResponse> obs) {
        Replies.handle(obs, () -> {
            EtcdCodec.validate(req, node.maxTxnOps());
            return node.propose(InternalRequest.newBuilder().setTxn(req), req.getSerializedSize())
                    .thenApply(r -> {
                        var resp = (io.raftkv.mvcc.TxnResponse) r;
                        return EtcdCodec.toProto(resp, node.header(resp.revision()));
                    });
        });
    }

    @Override
    public void compact(CompactionRequest req, StreamObserver<CompactionResponse> obs) {
        Replies.handle(obs, () -> node.propose(InternalRequest.newBuilder().setCompaction(req), req.getSerializedSize())
                .thenApply(r -> {
                    var resp = (io.raftkv.mvcc.CompactResponse) r;
                    return CompactionResponse.newBuilder().setHeader(node.header(resp.revision())).build();
                }));
    }

}

package io.raftkv.e2e;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * etcd's WithRequireLeader (metadata {@code hasleader: true}, what kube-apiserver's watches send),
 * checked on etcd 3.4 and on raftkv alike, with real processes: a member that loses its peers ends
 * the watch and keep-alive streams that require a leader with UNAVAILABLE "etcdserver: no leader"
 * (so the client moves to a member that has one) and refuses new calls carrying the header, while
 * a watch without it stays open and a serializable read without it is still served.
 */
class RequireLeaderIT {

    private static final String NO_LEADER = "etcdserver: no leader";

    @ParameterizedTest
    @EnumSource(LocalCluster.Kind.class)
    void memberThatLostItsLeaderEndsRequireLeaderStreamsAndRefusesNewCalls(LocalCluster.Kind kind) throws Exception {
        try (LocalCluster c = LocalCluster.start(kind, 3)) {
            c.awaitHealthy(Duration.ofSeconds(60));
            URI url = URI.create(c.clientUrl(0));
            ManagedChannel channel = NettyChannelBuilder.forAddress(url.getHost(), url.getPort()).usePlaintext().build();
            try {
                Metadata requireLeader = new Metadata();
                requireLeader.put(Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER), "true");
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
                KVGrpc.KVBlockingStub kvRequiringLeader = kv.withInterceptors(
                        MetadataUtils.newAttachHeadersInterceptor(requireLeader));
                RangeRequest get = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("rl/key"))
                        .setSerializable(true).build();
                assertThat(kvRequiringLeader.withDeadlineAfter(10, TimeUnit.SECONDS).range(get).getCount()).isZero();

                Watch requiring = new Watch(WatchGrpc.newStub(channel).withInterceptors(
                        MetadataUtils.newAttachHeadersInterceptor(requireLeader)));
                Watch plain = new Watch(WatchGrpc.newStub(channel));
                assertThat(requiring.created.await(10, TimeUnit.SECONDS)).as("require-leader watch created").isTrue();
                assertThat(plain.created.await(10, TimeUnit.SECONDS)).as("plain watch created").isTrue();
                Ending<LeaseKeepAliveResponse> keepAliveEnd = new Ending<>(r -> { });
                StreamObserver<LeaseKeepAliveRequest> keepAlive = LeaseGrpc.newStub(channel).withInterceptors(
                        MetadataUtils.newAttachHeadersInterceptor(requireLeader)).leaseKeepAlive(keepAliveEnd);

                c.kill(1);
                c.kill(2);
                long killed = System.nanoTime();

                Throwable ended = requiring.end.get(60, TimeUnit.SECONDS);
                long endedAfterMillis = (System.nanoTime() - killed) / 1_000_000;
                assertThat(Status.fromThrowable(ended).getCode()).as("%s", ended).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(Status.fromThrowable(ended).getDescription()).isEqualTo(NO_LEADER);
                System.out.printf("RequireLeaderIT %s: require-leader watch ended %d ms after the kills%n",
                        kind, endedAfterMillis);

                Throwable keepAliveEnded = keepAliveEnd.end.get(30, TimeUnit.SECONDS);
                assertThat(Status.fromThrowable(keepAliveEnded).getDescription()).as("%s", keepAliveEnded)
                        .isEqualTo(NO_LEADER);

                assertThatThrownBy(() -> kvRequiringLeader.withDeadlineAfter(10, TimeUnit.SECONDS).range(get))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).isEqualTo(NO_LEADER);
                        });
                Watch refused = new Watch(WatchGrpc.newStub(channel).withInterceptors(
                        MetadataUtils.newAttachHeadersInterceptor(requireLeader)));
                Throwable refusal = refused.end.get(10, TimeUnit.SECONDS);
                assertThat(Status.fromThrowable(refusal).getDescription()).isEqualTo(NO_LEADER);
                assertThat(refused.created.getCount()).as("a refused watch is never created").isEqualTo(1);

                // Without the header nothing changes: the local read is served, the watch stays.
                await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() ->
                        kv.withDeadlineAfter(5, TimeUnit.SECONDS).range(get).getCount() == 0);
                assertThat(plain.end).as("the watch without the header").isNotDone();
                plain.close();
                keepAlive.onCompleted();
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** A response observer that records how its stream ended; responses go to {@code onResponse}. */
    private static final class Ending<T> implements StreamObserver<T> {
        final CompletableFuture<Throwable> end = new CompletableFuture<>();
        private final Consumer<T> onResponse;

        Ending(Consumer<T> onResponse) {
            this.onResponse = onResponse;
        }

        @Override
        public void onNext(T response) {
            onResponse.accept(response);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(t);
        }

        @Override
        public void onCompleted() {
            end.complete(new IllegalStateException("the server completed the stream"));
        }
    }

    /** One Watch stream with one watcher on the prefix "rl/", created at construction. */
    private static final class Watch {
        final CountDownLatch created = new CountDownLatch(1);
        private final Ending<WatchResponse> responses = new Ending<>(r -> {
            if (r.getCreated()) {
                created.countDown();
            }
        });
        final CompletableFuture<Throwable> end = responses.end;
        private final StreamObserver<WatchRequest> requests;

        Watch(WatchGrpc.WatchStub stub) {
            requests = stub.watch(responses);
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("rl/")).setRangeEnd(ByteString.copyFromUtf8("rl0"))).build());
        }

        void close() {
            requests.onCompleted();
        }
    }
}

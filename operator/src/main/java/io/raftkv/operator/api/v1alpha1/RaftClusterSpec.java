package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/**
 * What the user asks for. Mutable bean for Jackson; defaults in the fields mirror the schema
 * defaults so that objects built in code behave like ones read from the API server.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RaftClusterSpec {

    @JsonPropertyDescription("Number of voting members: odd, 1 to 7 (an even count adds no fault tolerance).")
    @Min(1)
    @Max(7)
    @Default("3")
    @ValidationRule(value = "self % 2 == 1", message = "replicas must be odd")
    private int replicas = 3;

    @JsonPropertyDescription("raftkv version: the image tag the nodes run. Changing it starts a rolling upgrade.")
    @Required
    @Pattern("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    private String version;

    @JsonPropertyDescription("Node image repository, without the tag.")
    @Default("raftkv/raftkv")
    private String image = "raftkv/raftkv";

    @JsonPropertyDescription("Per-member persistent volume.")
    private StorageSpec storage = new StorageSpec();

    @JsonPropertyDescription("Compute resources of each node container.")
    private ResourceRequirements resources;

    @JsonPropertyDescription("Scheduling overrides for the node pods; by default pods prefer distinct nodes.")
    private PodOverrides pod = new PodOverrides();

    @JsonPropertyDescription("Raft timing.")
    private RaftTuning raft = new RaftTuning();

    @JsonPropertyDescription("Backend size at which the NOSPACE alarm is raised (etcd's --quota-backend-bytes); 0 selects 2 GiB.")
    @Min(0)
    @Default("0")
    private long quotaBackendBytes;

    @JsonPropertyDescription("When and whether a failed member is replaced automatically.")
    private MemberReplacement memberReplacement = new MemberReplacement();

    /** Desired number of voters. */
    public int getReplicas() {
        return replicas;
    }

    /** Sets the desired number of voters. */
    public void setReplicas(int replicas) {
        this.replicas = replicas;
    }

    /** Image tag of the nodes. */
    public String getVersion() {
        return version;
    }

    /** Sets the image tag of the nodes. */
    public void setVersion(String version) {
        this.version = version;
    }

    /** Image repository without tag. */
    public String getImage() {
        return image;
    }

    /** Sets the image repository. */
    public void setImage(String image) {
        this.image = image;
    }

    /** Volume settings; never null after deserialisation of a defaulted object. */
    public StorageSpec getStorage() {
        return storage;
    }

    /** Sets the volume settings. */
    public void setStorage(StorageSpec storage) {
        this.storage = storage;
    }

    /** Container resources, or null for none. */
    public ResourceRequirements getResources() {
        return resources;
    }

    /** Sets the container resources. */
    public void setResources(ResourceRequirements resources) {
        this.resources = resources;
    }

    /** Scheduling overrides. */
    public PodOverrides getPod() {
        return pod;
    }

    /** Sets the scheduling overrides. */
    public void setPod(PodOverrides pod) {
        this.pod = pod;
    }

    /** Raft timing. */
    public RaftTuning getRaft() {
        return raft;
    }

    /** Sets the Raft timing. */
    public void setRaft(RaftTuning raft) {
        this.raft = raft;
    }

    /** Backend quota in bytes; 0 selects the node's default. */
    public long getQuotaBackendBytes() {
        return quotaBackendBytes;
    }

    /** Sets the backend quota. */
    public void setQuotaBackendBytes(long quotaBackendBytes) {
        this.quotaBackendBytes = quotaBackendBytes;
    }

    /** Replacement policy. */
    public MemberReplacement getMemberReplacement() {
        return memberReplacement;
    }

    /** Sets the replacement policy. */
    public void setMemberReplacement(MemberReplacement memberReplacement) {
        this.memberReplacement = memberReplacement;
    }
}

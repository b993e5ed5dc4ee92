package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** The persistent volume claimed for each member's data dir. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StorageSpec {

    /** What happens to a removed member's claim after scale-down. */
    public enum ReclaimPolicy {
        /** Keep the claim (and the data) until a person deletes it. */
        Retain,
        /** Delete the claim once the member is out of the cluster and its pod is gone. */
        Delete
    }

    @JsonPropertyDescription("Requested size of each member's volume.")
    @Default("1Gi")
    @Pattern("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
    private String size = "1Gi";

    @JsonPropertyDescription("StorageClass of the claims; empty selects the cluster default.")
    private String storageClassName;

    @JsonPropertyDescription("Retain or Delete the claim of a member removed by scale-down.")
    @Default("Retain")
    private ReclaimPolicy reclaimPolicy = ReclaimPolicy.Retain;

    /** Volume size as a Kubernetes quantity. */
    public String getSize() {
        return size;
    }

    /** Sets the volume size. */
    public void setSize(String size) {
        this.size = size;
    }

    /** StorageClass name, or null for the default class. */
    public String getStorageClassName() {
        return storageClassName;
    }

    /** Sets the StorageClass name. */
    public void setStorageClassName(String storageClassName) {
        this.storageClassName = storageClassName;
    }

    /** Reclaim policy on scale-down. */
    public ReclaimPolicy getReclaimPolicy() {
        return reclaimPolicy;
    }

    /** Sets the reclaim policy. */
    public void setReclaimPolicy(ReclaimPolicy reclaimPolicy) {
        this.reclaimPolicy = reclaimPolicy;
    }
}

"""moto_server with fixes where moto and AWS disagree on the wire, so the AWS
SDK for Rust (stricter than boto3) can talk to it. Run as moto_server; drone's
scripts and tests start moto only through this file.

Always:
- RDS ModifyDBSubnetGroup takes the group out of moto's table and never puts
  it back: the group is gone after a successful change (AWS keeps it), which
  drone's refresh reports as deleted outside drone.
- RDS DeleteDBCluster keeps the cluster's automated snapshots (AWS deletes
  them with the cluster), so re-creating a cluster of the same name within
  the minute collides with the old one's `rds:NAME-DATE` snapshot.
- RDS global databases: CreateGlobalCluster from a source cluster leaves it
  no writer, RemoveFromGlobalCluster looks for the global database in the
  caller's region (moto keeps them all in us-east-1) and leaves the cluster
  naming it, DeleteDBCluster deletes a member (AWS refuses until it has
  left), and FailoverGlobalCluster, SwitchoverGlobalCluster and
  ModifyGlobalCluster are missing. Each is stored and answered as AWS
  documents it (the writer changes at once: AWS takes minutes).
- ECR PutReplicationConfiguration refuses more than one rule ("This feature
  is disabled"); AWS takes up to 10, each checked as moto checks its one.
- EFS has no replication: CreateReplicationConfiguration,
  DescribeReplicationConfigurations, DeleteReplicationConfiguration and
  UpdateFileSystemProtection are missing, and file systems describe no
  `FileSystemProtection`. They are stored and answered as AWS documents them,
  into an existing destination file system whose overwrite protection is
  disabled (it reads REPLICATING while replicated into, ENABLED again once the
  configuration is deleted, from either region; LOCAL_CONFIGURATION_ONLY
  deletes only the caller's side). A replication is ENABLED, and its first
  sync complete, at once (AWS takes minutes). A file system in a replication
  cannot be deleted.
- CloudFront refuses a default cache behaviour whose target is an origin
  group ("OriginDoesNotExist"): AWS accepts an origin group's id wherever
  it accepts an origin's.
- Route 53 UpdateHealthCheck without Regions clears the regions (AWS keeps
  them unless ResetElements names them).
- Route 53 has no CLOUDWATCH_METRIC health check: CreateHealthCheck and
  UpdateHealthCheck drop `AlarmIdentifier` and `InsufficientDataHealthStatus`,
  and GetHealthCheck describes none. They are kept and described as AWS does
  (an alarm that does not exist in its region is refused as InvalidInput), and
  a metric check describes no address, port, interval or threshold.
- WAFv2 refuses a duplicate name with the error code `WafV2DuplicateItem`;
  AWS's is `WAFDuplicateItemException`, which drone reads as "the name is
  taken" and answers by looking the web ACL up (so a create whose first
  reply was lost adopts what it made instead of failing on it).
- S3 object requests are judged against the bucket policy with its
  conditions ignored, so a TLS-only policy (Deny everything when
  `aws:SecureTransport` is false) denies every request. The SDK reaches AWS
  over TLS, where that Deny never applies; the statement is left out.
- ECS RunTask of an `awsvpc` task describes the network interface it made by
  its `private_dns_name`, which moto's EC2 interfaces lack: the call fails
  with a 500. AWS names it `ip-A-B-C-D.REGION.compute.internal`.
- ECS describes a task's containers with `cpu` and `memory` as numbers; the
  API's (and the SDK's) are strings.
- ECS CreateService and UpdateService ignore `enableExecuteCommand` and
  CreateService `deploymentConfiguration` (minimum healthy and maximum
  percent, circuit breaker, rollback alarms), and DescribeServices returns
  neither: AWS keeps and describes both.
- ECR PutImageScanningConfiguration with `{}` (the SDK leaves `scanOnPush`
  out when it is false, as the API allows) changes nothing in moto; AWS turns
  scanning off.
- EC2 security group rules from a prefix list lose their description: moto
  keeps only the list's id, where AWS keeps and describes `Description` as it
  does for address ranges and groups.

- CodeCommit drops CreateRepository's tags and has no TagResource,
  UntagResource, ListTagsForResource, UpdateRepositoryDescription or
  ListRepositories: they are
  kept and answered as AWS documents them.
- CodeBuild requires a `location` for a source or artifacts of type
  CODEPIPELINE (AWS takes none: the pipeline hands the build its input), and
  has no UpdateProject, which replaces each structure it is given.
- CodePipeline answers a taken name with InvalidStructureException; AWS's is
  PipelineNameInUseException, which drone reads as "the name is taken".

- What a release calls (`drone release`): CodeCommit commits, CodePipeline
  execution tokens and source revisions, ECS deployments. See moto_release.py.
- CodeConnections (a pipeline's GitHub source) is missing altogether. See
  moto_connections.py.

moto authorizes each request as the action `service:Operation`; AWS names
some operations' actions otherwise (S3's PutBucketEncryption needs
`s3:PutEncryptionConfiguration`) and a few need two (CloudFront's
CreateDistributionWithTags also needs `cloudfront:TagResource`), and CloudWatch's
prefix is `cloudwatch`, not the `monitoring` it signs with. Requests are checked
against AWS's names.

With IAM enforcement on (INITIAL_NO_AUTH_ACTION_COUNT set), moto recomputes
each request's SigV4 signature, but not over the bytes that were sent:
- For a form-encoded body (the query protocol of EC2, IAM, RDS, STS) the Flask
  server has already parsed the form, so moto signs a re-encoding of the parsed
  fields, with spaces as '+', while the AWS SDK for Rust signs the bytes it
  sent, with '%20' (both valid; AWS itself checks the bytes). Every call with a
  space in a parameter would fail as AuthFailure.
- For a request without a body (a REST GET such as EFS DescribeFileSystems)
  moto signs its parsed query parameters as if they were the body.
Keeping the raw bytes, and signing exactly them, lets moto check the signature
of what was actually sent.
"""

import inspect
import json
import os
import sys

# ACM issues a DNS-validated certificate once its validation record is in place: minutes in
# AWS. moto issues any pending certificate once it is this many seconds old (60 by default);
# drone's waiter polls either way, so a second keeps the tests fast without skipping it.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "1")

import werkzeug.wrappers  # noqa: E402
from moto.rds import models as rds_models  # noqa: E402
from moto.s3 import models as s3_models  # noqa: E402

_modify_db_subnet_group = rds_models.RDSBackend.modify_db_subnet_group


def _modify_db_subnet_group_kept(self, subnet_name, description, subnets):
    group = _modify_db_subnet_group(self, subnet_name, description, subnets)
    self.subnet_groups[subnet_name] = group
    return group


rds_models.RDSBackend.modify_db_subnet_group = _modify_db_subnet_group_kept

_delete_db_cluster = rds_models.RDSBackend.delete_db_cluster


def _delete_db_cluster_and_backups(self, cluster_identifier, *args, **kwargs):
    cluster = _delete_db_cluster(self, cluster_identifier, *args, **kwargs)
    automated = [s for s in self.cluster_snapshots if s.startswith(f"rds:{cluster_identifier}-")]
    for snapshot in automated:
        self.cluster_snapshots.pop(snapshot, None)
    return cluster


rds_models.RDSBackend.delete_db_cluster = _delete_db_cluster_and_backups

from moto.rds import exceptions as rds_exceptions  # noqa: E402
from moto.rds import responses as rds_responses  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402


def _global_clusters(account_id):
    # moto keeps every global database in us-east-1's backend, whichever region is asked.
    return rds_models.rds_backends[account_id]["us-east-1"].global_clusters


def _global_cluster(account_id, identifier):
    found = _global_clusters(account_id).get(identifier or "")
    if found is None:
        raise rds_exceptions.RDSClientError(
            "GlobalClusterNotFoundFault", f"Global cluster {identifier} not found."
        )
    return found


def _member(global_cluster, cluster_identifier):
    for member in global_cluster.members:
        if cluster_identifier in (member.db_cluster_arn, member.db_cluster_identifier):
            return member
    raise rds_exceptions.InvalidParameterValue(
        f"{cluster_identifier} is not a member of {global_cluster.global_cluster_identifier}"
    )


def _create_global_cluster(
    self,
    global_cluster_identifier,
    source_db_cluster_identifier,
    engine,
    engine_version,
    storage_encrypted,
    deletion_protection,
):
    # moto looks the source cluster up in us-east-1 only, and makes it no writer.
    if global_cluster_identifier in _global_clusters(self.account_id):
        raise rds_exceptions.RDSClientError(
            "GlobalClusterAlreadyExistsFault",
            f"Global cluster {global_cluster_identifier} already exists.",
        )
    source = None
    if source_db_cluster_identifier:
        if engine is not None:
            raise rds_exceptions.InvalidParameterCombination(
                "The engine is inherited from the source cluster."
            )
        source = rds_models.find_cluster(source_db_cluster_identifier)
        engine, engine_version = source.engine, source.engine_version
        storage_encrypted = source.storage_encrypted
    elif engine is None:
        raise rds_exceptions.InvalidParameterValue("A global cluster without a source needs an engine.")
    made = rds_models.GlobalCluster(
        backend=self,
        global_cluster_identifier=global_cluster_identifier,
        engine=engine,
        engine_version=engine_version,
        storage_encrypted=storage_encrypted,
        deletion_protection=deletion_protection,
    )
    self.global_clusters[global_cluster_identifier] = made
    if source is not None:
        source.global_cluster_identifier = made.global_cluster_identifier
        source.is_writer = True
        made.members.append(source)
    return made


rds_models.RDSBackend.create_global_cluster = _create_global_cluster


def _remove_from_global_cluster(self, global_cluster_identifier, db_cluster_identifier):
    found = _global_cluster(self.account_id, global_cluster_identifier)
    member = _member(found, db_cluster_identifier)
    if member.is_writer and len(found.members) > 1:
        raise rds_exceptions.InvalidDBClusterStateFault(
            "The writer can leave a global cluster only as its last member."
        )
    found.members.remove(member)
    # A secondary that leaves is a standalone cluster that takes writes.
    member.global_cluster_identifier = None
    member.is_writer = False
    return found


rds_models.RDSBackend.remove_from_global_cluster = _remove_from_global_cluster


def _delete_db_cluster_not_a_member(self, cluster_identifier, *args, **kwargs):
    cluster = self.clusters.get(cluster_identifier)
    if cluster is not None and cluster.global_cluster_identifier:
        if cluster.global_cluster_identifier in _global_clusters(self.account_id):
            raise rds_exceptions.InvalidDBClusterStateFault(
                f"Cluster {cluster_identifier} is part of a global cluster; remove it first."
            )
    return _delete_db_cluster_and_backups(self, cluster_identifier, *args, **kwargs)


rds_models.RDSBackend.delete_db_cluster = _delete_db_cluster_not_a_member


def _move_writer(self):
    params = self.params
    found = _global_cluster(self.current_account, params.get("GlobalClusterIdentifier"))
    target = _member(found, params.get("TargetDbClusterIdentifier", ""))
    for member in found.members:
        member.is_writer = member is target
    # The writer is listed first, as AWS lists it.
    found.members.sort(key=lambda m: not m.is_writer)
    return ActionResult({"GlobalCluster": found})


def _modify_global_cluster(self):
    params = self.params
    found = _global_cluster(self.current_account, params.get("GlobalClusterIdentifier"))
    if params.get("DeletionProtection") is not None:
        found.deletion_protection = str(params["DeletionProtection"]).lower() == "true"
    if params.get("EngineVersion"):
        found.engine_version = params["EngineVersion"]
    return ActionResult({"GlobalCluster": found})


rds_responses.RDSResponse.failover_global_cluster = _move_writer
rds_responses.RDSResponse.switchover_global_cluster = _move_writer
rds_responses.RDSResponse.modify_global_cluster = _modify_global_cluster

from moto.ecr import models as ecr_models  # noqa: E402

_put_replication_configuration = ecr_models.ECRBackend.put_replication_configuration


def _put_replication_rules(self, replication_config):
    # AWS documents up to 10 rules; moto's own checks run on each, one at a time.
    rules = replication_config.get("rules") or []
    if len(rules) > 10:
        raise ecr_models.InvalidParameterException(
            "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: "
            "'Member must have length less than or equal to 10'"
        )
    for rule in rules:
        _put_replication_configuration(self, {"rules": [rule]})
    self.replication_config = replication_config
    return {"replicationConfiguration": replication_config}


ecr_models.ECRBackend.put_replication_configuration = _put_replication_rules

from moto.efs import exceptions as efs_exceptions  # noqa: E402
from moto.efs import models as efs_models  # noqa: E402
from moto.efs import responses as efs_responses  # noqa: E402
from moto.efs import urls as efs_urls  # noqa: E402

# EFS replication configurations of each account, by source file system id. Each side (the
# source's region, the destination's) holds its own copy until it is deleted there.
_efs_replications = {}


def _efs_error(code, status, message):
    error = efs_exceptions.EFSError(code, message)
    error.code = status
    return error


def _efs_file_system(account_id, region, file_system_id):
    found = efs_models.efs_backends[account_id][region].file_systems_by_id.get(file_system_id)
    if found is None:
        raise efs_exceptions.FileSystemNotFound(file_system_id)
    return found


def _protection(fs):
    return getattr(fs, "file_system_protection", None) or {"ReplicationOverwriteProtection": "ENABLED"}


def _set_protection(fs, value):
    fs.file_system_protection = {"ReplicationOverwriteProtection": value}


def _efs_side(replication, region):
    # Which sides of `replication` the caller's region holds.
    sides = []
    if replication["SourceFileSystemRegion"] == region and "source" in replication["_sides"]:
        sides.append("source")
    if replication["Destinations"][0]["Region"] == region and "destination" in replication["_sides"]:
        sides.append("destination")
    return sides


def _efs_local_ids(replication, region):
    # The file systems the caller's region holds a side of `replication` for.
    ids = {"source": replication["SourceFileSystemId"], "destination": replication["Destinations"][0]["FileSystemId"]}
    return [ids[side] for side in _efs_side(replication, region)]


def _efs_in_replication(account_id, region, file_system_id):
    for r in _efs_replications.get(account_id, {}).values():
        if file_system_id in _efs_local_ids(r, region):
            return r
    return None


def _efs_public(replication):
    return {k: v for k, v in replication.items() if not k.startswith("_")}


def _create_replication_configuration(self):
    import time

    account, region = self.current_account, self.region
    source_id = self._get_param("SourceFileSystemId").split("/")[-1]
    source = _efs_file_system(account, region, source_id)
    destinations = self._get_param("Destinations") or []
    if len(destinations) != 1:
        raise _efs_error("ValidationException", 400, "Only one destination configuration object is supported.")
    wanted = destinations[0]
    if not wanted.get("FileSystemId"):
        raise _efs_error("ValidationException", 400, "moto_server.py replicates into an existing file system only.")
    dest_region = wanted.get("Region") or region
    destination = _efs_file_system(account, dest_region, wanted["FileSystemId"])
    for fs_id, fs_region in ((source_id, region), (destination.file_system_id, dest_region)):
        if _efs_in_replication(account, fs_region, fs_id):
            raise _efs_error(
                "ValidationException", 400, f"File system {fs_id} is already part of a replication configuration."
            )
    if _protection(destination)["ReplicationOverwriteProtection"] != "DISABLED":
        raise _efs_error(
            "ValidationException", 400,
            f"Replication overwrite protection of destination file system {destination.file_system_id} is enabled.",
        )
    if source.encrypted and not destination.encrypted:
        raise _efs_error("ConflictException", 409, "The source file system is encrypted; the destination is not.")
    now = time.time()
    replication = {
        "SourceFileSystemId": source_id,
        "SourceFileSystemRegion": region,
        "SourceFileSystemArn": source.file_system_arn,
        "OriginalSourceFileSystemArn": source.file_system_arn,
        "SourceFileSystemOwnerId": account,
        "CreationTime": now,
        "Destinations": [
            {
                "Status": "ENABLED",
                "FileSystemId": destination.file_system_id,
                "Region": dest_region,
                "LastReplicatedTimestamp": now,
                "OwnerId": account,
            }
        ],
        "_sides": {"source", "destination"},
    }
    _efs_replications.setdefault(account, {})[source_id] = replication
    _set_protection(destination, "REPLICATING")
    return json.dumps(_efs_public(replication)), {"Content-Type": "application/json"}


def _describe_replication_configurations(self):
    account, region = self.current_account, self.region
    wanted = self._get_param("FileSystemId")
    found = []
    for r in _efs_replications.get(account, {}).values():
        held = _efs_local_ids(r, region)
        if held and (not wanted or wanted.split("/")[-1] in held):
            found.append(_efs_public(r))
    if wanted and not found:
        _efs_file_system(account, region, wanted.split("/")[-1])
        raise _efs_error("ReplicationNotFound", 404, f"No replication configuration found for {wanted}.")
    return json.dumps({"Replications": found}), {"Content-Type": "application/json"}


def _delete_replication_configuration(self):
    account, region = self.current_account, self.region
    source_id = self._get_param("SourceFileSystemId").split("/")[-1]
    r = _efs_replications.get(account, {}).get(source_id)
    sides = _efs_side(r, region) if r else []
    if not sides:
        raise _efs_error("ReplicationNotFound", 404, f"No replication configuration found for {source_id}.")
    # The mode travels in the query string as `deletionMode`.
    mode = self._get_param("deletionMode") or self._get_param("DeletionMode")
    if mode == "LOCAL_CONFIGURATION_ONLY":
        dropped = set(sides)
    else:
        dropped = {"source", "destination"}
    if "destination" in dropped and "destination" in r["_sides"]:
        d = r["Destinations"][0]
        destination = efs_models.efs_backends[account][d["Region"]].file_systems_by_id.get(d["FileSystemId"])
        if destination is not None:
            _set_protection(destination, "ENABLED")
    r["_sides"] -= dropped
    if not r["_sides"]:
        del _efs_replications[account][source_id]
    return "", {"status": 204}


def _update_file_system_protection(self):
    account, region = self.current_account, self.region
    fs = _efs_file_system(account, region, self._get_param("FileSystemId").split("/")[-1])
    value = self._get_param("ReplicationOverwriteProtection")
    if value:
        if _protection(fs)["ReplicationOverwriteProtection"] == "REPLICATING":
            raise _efs_error(
                "ReplicationAlreadyExists", 409, f"File system {fs.file_system_id} is a replication destination."
            )
        _set_protection(fs, value)
    return json.dumps(_protection(fs)), {"Content-Type": "application/json"}


_file_system_init = efs_models.FileSystem.__init__


def _file_system_init_protected(self, *args, **kwargs):
    _file_system_init(self, *args, **kwargs)
    _set_protection(self, "ENABLED")


_efs_delete_file_system = efs_models.EFSBackend.delete_file_system


def _delete_file_system_not_replicated(self, file_system_id):
    if _efs_in_replication(self.account_id, self.region_name, file_system_id):
        raise efs_exceptions.FileSystemInUse(
            "File system is part of a replication configuration; delete the replication configuration first."
        )
    return _efs_delete_file_system(self, file_system_id)


efs_models.FileSystem.__init__ = _file_system_init_protected
efs_models.EFSBackend.delete_file_system = _delete_file_system_not_replicated
efs_responses.EFSResponse.create_replication_configuration = _create_replication_configuration
efs_responses.EFSResponse.describe_replication_configurations = _describe_replication_configurations
efs_responses.EFSResponse.delete_replication_configuration = _delete_replication_configuration
efs_responses.EFSResponse.update_file_system_protection = _update_file_system_protection
efs_urls.url_paths.update(
    {
        "/2015-02-01/file-systems/replication-configurations": efs_urls.response.dispatch,
        "/2015-02-01/file-systems/<file_system_id>/replication-configuration": efs_urls.response.dispatch,
        "/2015-02-01/file-systems/<file_system_id>/protection": efs_urls.response.dispatch,
    }
)

from moto.cloudfront import models as cloudfront_models  # noqa: E402

_distribution_config_init = cloudfront_models.DistributionConfig.__init__


def _distribution_config_with_groups(self, config):
    # moto checks the default behaviour's target against the origins only; an origin group's id
    # is as good. The group stands in as an origin for that check, then is taken out again.
    groups = (config.get("OriginGroups") or {}).get("Items") or []
    group_ids = {g.get("Id") for g in groups}
    target = (config.get("DefaultCacheBehavior") or {}).get("TargetOriginId")
    origins = config["Origins"]["Items"]
    stand_in = target in group_ids and all(o.get("Id") != target for o in origins)
    if stand_in:
        origins.append({"Id": target, "DomainName": "origin-group.invalid"})
    _distribution_config_init(self, config)
    if stand_in:
        self.Origins["Items"] = [o for o in self.Origins["Items"] if o.id != target]


cloudfront_models.DistributionConfig.__init__ = _distribution_config_with_groups

from moto.route53 import models as route53_models  # noqa: E402

_update_health_check = route53_models.Route53Backend.update_health_check


def _update_health_check_keeping_lists(self, health_check_id, health_check_args):
    # An UpdateHealthCheck without Regions or ChildHealthChecks leaves them as they are (AWS resets
    # them only through ResetElements); moto reads the missing lists as empty ones and clears them.
    args = dict(health_check_args)
    for name in ("regions", "children"):
        if not args.get(name):
            args[name] = None
    return _update_health_check(self, health_check_id, args)


route53_models.Route53Backend.update_health_check = _update_health_check_keeping_lists


from moto.cloudwatch import models as cloudwatch_models  # noqa: E402
from moto.route53 import exceptions as route53_exceptions  # noqa: E402
from moto.route53 import responses as route53_responses  # noqa: E402


def _metric_settings(account_id, config):
    # What a CLOUDWATCH_METRIC health check keeps: the alarm (which must exist) and the status
    # while it has too little data.
    settings = {}
    alarm = config.get("AlarmIdentifier")
    if alarm:
        region, name = alarm.get("Region"), alarm.get("Name")
        if name not in cloudwatch_models.cloudwatch_backends[account_id][region].alarms:
            raise route53_exceptions.InvalidInput(f"The CloudWatch alarm {name} does not exist in {region}.")
        settings["alarm_identifier"] = {"Region": region, "Name": name}
    if config.get("InsufficientDataHealthStatus"):
        settings["insufficient_data_health_status"] = config["InsufficientDataHealthStatus"]
    return settings


def _keeping_alarm(handler, config_of):
    def handle(self):
        settings = _metric_settings(self.current_account, config_of(self) or {})
        result = handler(self)
        for name, value in settings.items():
            setattr(result.result["HealthCheck"], name, value)
        return result

    return handle


_health_check_config = route53_models.HealthCheck.health_check_config.fget


def _health_check_config_with_alarm(self):
    config = _health_check_config(self)
    if self.type_ == "CLOUDWATCH_METRIC":
        for probe_only in ("IPAddress", "Port", "RequestInterval", "FailureThreshold", "MeasureLatency"):
            config.pop(probe_only, None)
    if getattr(self, "alarm_identifier", None):
        config["AlarmIdentifier"] = self.alarm_identifier
    if getattr(self, "insufficient_data_health_status", None):
        config["InsufficientDataHealthStatus"] = self.insufficient_data_health_status
    return config


route53_models.HealthCheck.health_check_config = property(_health_check_config_with_alarm)
route53_responses.Route53.create_health_check = _keeping_alarm(
    route53_responses.Route53.create_health_check, lambda r: r._get_param("HealthCheckConfig")
)
route53_responses.Route53.update_health_check = _keeping_alarm(
    route53_responses.Route53.update_health_check,
    lambda r: {
        "AlarmIdentifier": r._get_param("AlarmIdentifier"),
        "InsufficientDataHealthStatus": r._get_param("InsufficientDataHealthStatus"),
    },
)


_get_permission = s3_models.FakeBucket.get_permission


def _is_tls_only_deny(statement):
    # Deny ... when aws:SecureTransport is false, and nothing else.
    condition = statement.get("Condition") or {}
    tests = [(op, key, value) for op, keys in condition.items() for key, value in keys.items()]
    return (
        statement.get("Effect") == "Deny"
        and len(tests) == 1
        and tests[0][0] in ("Bool", "BoolIfExists")
        and tests[0][1].lower() == "aws:securetransport"
        and str(tests[0][2]).lower() in ("false", "['false']")
    )


def _get_permission_over_tls(self, action, resource):
    if self.policy is None:
        return _get_permission(self, action, resource)
    document = json.loads(self.policy.decode())
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not _is_tls_only_deny(s)]
    if len(kept) == len(statements):
        return _get_permission(self, action, resource)
    if not kept:
        from moto.iam.access_control import PermissionResult

        return PermissionResult.NEUTRAL
    original = self.policy
    try:
        self.policy = json.dumps({**document, "Statement": kept}).encode()
        return _get_permission(self, action, resource)
    finally:
        self.policy = original


s3_models.FakeBucket.get_permission = _get_permission_over_tls


from moto.ec2.models import security_groups as sg_models  # noqa: E402

_rule_init = sg_models.SecurityGroupRule.__init__


def _rule_init_keeping_description(self, *args, **kwargs):
    _rule_init(self, *args, **kwargs)
    bound = inspect.signature(_rule_init).bind(self, *args, **kwargs)
    listed = bound.arguments.get("prefix_list_id")
    self.prefix_list_description = (listed or {}).get("Description")


_flattened_rules = sg_models.SecurityGroup._flattened_rules


def _flattened_rules_with_descriptions(self, rules):
    views = _flattened_rules(self, rules)
    described = {
        (r.from_port, r.to_port, r.ip_protocol, r.prefix_list_id): r.prefix_list_description
        for r in rules
        if r.prefix_list_id and getattr(r, "prefix_list_description", None)
    }
    for view in views:
        for entry in view.prefix_list_ids:
            key = (view.from_port, view.to_port, view.ip_protocol, entry.get("PrefixListId"))
            if key in described:
                entry["Description"] = described[key]
    return views


sg_models.SecurityGroupRule.__init__ = _rule_init_keeping_description
sg_models.SecurityGroup._flattened_rules = _flattened_rules_with_descriptions


from moto.ecr import models as ecr_models  # noqa: E402

_update_scanning = ecr_models.Repository._update_image_scanning_configuration


def _update_scanning_with_defaults(self, image_scanning_configuration):
    if image_scanning_configuration is not None:
        image_scanning_configuration = {"scanOnPush": False, **image_scanning_configuration}
    _update_scanning(self, image_scanning_configuration)


ecr_models.Repository._update_image_scanning_configuration = _update_scanning_with_defaults


from moto.ec2.models import elastic_network_interfaces as eni_models  # noqa: E402


def _private_dns_name(self):
    given = self.__dict__.get("_private_dns_name")
    if given:
        return given
    address = self.private_ip_address or "0.0.0.0"
    return f"ip-{address.replace('.', '-')}.{self.ec2_backend.region_name}.compute.internal"


def _set_private_dns_name(self, value):
    self.__dict__["_private_dns_name"] = value


# A property, so interfaces that set the name keep theirs and the others get AWS's form.
eni_models.NetworkInterface.private_dns_name = property(_private_dns_name, _set_private_dns_name)

from moto.ecs import models as ecs_models  # noqa: E402

_container_init = ecs_models.Container.__init__


def _container_with_string_sizes(self, task_def):
    _container_init(self, task_def)
    self.cpu = None if self.cpu is None else str(self.cpu)
    self.memory = None if self.memory is None else str(self.memory)


ecs_models.Container.__init__ = _container_with_string_sizes

from moto.ecs import responses as ecs_responses  # noqa: E402


def _keeping_execute_command(handler):
    def handle(self):
        result = handler(self)
        enabled = self._get_param("enableExecuteCommand")
        service = result.result["service"]
        if enabled is not None:
            service.enable_execute_command = bool(enabled)
        elif not hasattr(service, "enable_execute_command"):
            service.enable_execute_command = False
        deployment = self._get_param("deploymentConfiguration")
        if deployment is not None:
            service.deployment_configuration = deployment
        elif not hasattr(service, "deployment_configuration"):
            # AWS's defaults for a rolling deployment, as DescribeServices describes them.
            service.deployment_configuration = {"maximumPercent": 200, "minimumHealthyPercent": 100}
        return result

    return handle


for _name in ("create_service", "update_service"):
    setattr(
        ecs_responses.EC2ContainerServiceResponse,
        _name,
        _keeping_execute_command(getattr(ecs_responses.EC2ContainerServiceResponse, _name)),
    )

from moto.wafv2 import exceptions as wafv2_exceptions  # noqa: E402


def _duplicate_item_init(self):
    wafv2_exceptions.WAFv2ClientError.__init__(
        self,
        "WAFDuplicateItemException",
        "AWS WAF could not perform the operation because some resource in your request is a duplicate of an existing one.",
    )


wafv2_exceptions.WAFV2DuplicateItemException.__init__ = _duplicate_item_init


def _raw_data(request):
    # Cache the raw bytes before the form parser consumes the stream; the
    # parser then reads the cached copy, so moto still sees its fields.
    return request.get_data(cache=True, parse_form_data=False)


ENFORCING = "INITIAL_NO_AUTH_ACTION_COUNT" in os.environ

if ENFORCING:
    werkzeug.wrappers.Request.data = property(_raw_data)

from moto.codecommit import exceptions as codecommit_exceptions  # noqa: E402
from moto.codecommit import responses as codecommit_responses  # noqa: E402

# CodeCommit repository tags, by ARN: moto drops CreateRepository's `tags` and has no tagging API.
_codecommit_tags = {}


def _codecommit_arn_repository(self, arn):
    for repository in self.codecommit_backend.repositories.values():
        if repository.repository_metadata["Arn"] == arn:
            return repository
    raise codecommit_exceptions.RepositoryDoesNotExistException(arn.split(":")[-1])


_codecommit_create_repository = codecommit_responses.CodeCommitResponse.create_repository


def _create_repository_with_tags(self):
    body = _codecommit_create_repository(self)
    arn = json.loads(body)["repositoryMetadata"]["Arn"]
    _codecommit_tags[arn] = dict(self._get_param("tags") or {})
    return body


_codecommit_delete_repository = codecommit_responses.CodeCommitResponse.delete_repository


def _delete_repository_and_tags(self):
    repository = self.codecommit_backend.repositories.get(self._get_param("repositoryName"))
    if repository is not None:
        _codecommit_tags.pop(repository.repository_metadata["Arn"], None)
    return _codecommit_delete_repository(self)


def _codecommit_list_tags_for_resource(self):
    arn = self._get_param("resourceArn")
    _codecommit_arn_repository(self, arn)
    return json.dumps({"tags": _codecommit_tags.get(arn, {})})


def _codecommit_tag_resource(self):
    arn = self._get_param("resourceArn")
    _codecommit_arn_repository(self, arn)
    _codecommit_tags.setdefault(arn, {}).update(self._get_param("tags") or {})
    return "{}"


def _codecommit_untag_resource(self):
    arn = self._get_param("resourceArn")
    _codecommit_arn_repository(self, arn)
    for key in self._get_param("tagKeys") or []:
        _codecommit_tags.get(arn, {}).pop(key, None)
    return "{}"


def _update_repository_description(self):
    import datetime

    # moto's own lookup, which answers RepositoryDoesNotExistException as AWS does.
    metadata = self.codecommit_backend.get_repository(self._get_param("repositoryName"))
    metadata["repositoryDescription"] = self._get_param("repositoryDescription") or ""
    metadata["lastModifiedDate"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    return "{}"


def _list_repositories(self):
    listed = [
        {"repositoryName": r.repository_metadata["repositoryName"], "repositoryId": r.repository_metadata["repositoryId"]}
        for r in self.codecommit_backend.repositories.values()
    ]
    return json.dumps({"repositories": sorted(listed, key=lambda r: r["repositoryName"])})


codecommit_responses.CodeCommitResponse.list_repositories = _list_repositories
codecommit_responses.CodeCommitResponse.create_repository = _create_repository_with_tags
codecommit_responses.CodeCommitResponse.delete_repository = _delete_repository_and_tags
codecommit_responses.CodeCommitResponse.list_tags_for_resource = _codecommit_list_tags_for_resource
codecommit_responses.CodeCommitResponse.tag_resource = _codecommit_tag_resource
codecommit_responses.CodeCommitResponse.untag_resource = _codecommit_untag_resource
codecommit_responses.CodeCommitResponse.update_repository_description = _update_repository_description

from moto.codebuild import exceptions as codebuild_exceptions  # noqa: E402
from moto.codebuild import responses as codebuild_responses  # noqa: E402
from moto.core.responses import ActionResult as _ActionResult  # noqa: E402

# A source or artifacts of type CODEPIPELINE (or NO_SOURCE) has no location: the pipeline hands
# the build its input. moto requires one for every type.
_codebuild_validate_source = codebuild_responses._validate_required_params_source
_codebuild_validate_artifacts = codebuild_responses._validate_required_params_artifacts


def _validate_source_located_or_piped(source):
    if source.get("type") in ("CODEPIPELINE", "NO_SOURCE") and not source.get("location"):
        return
    _codebuild_validate_source(source)


def _validate_artifacts_located_or_piped(artifacts):
    if artifacts.get("type") == "CODEPIPELINE" and not artifacts.get("location"):
        return
    _codebuild_validate_artifacts(artifacts)


def _update_project(self):
    import datetime

    name = self._get_param("name")
    backend = self.codebuild_backend
    project = backend.codebuild_projects.get(name)
    if project is None:
        project = next((p for p in backend.codebuild_projects.values() if p.arn == name), None)
    if project is None:
        raise codebuild_exceptions.ResourceNotFoundException(f"Project cannot be found: {name}")
    metadata = project.project_metadata
    if self._get_param("source") is not None:
        _validate_source_located_or_piped(self._get_param("source"))
    if self._get_param("artifacts") is not None:
        _validate_artifacts_located_or_piped(self._get_param("artifacts"))
    if self._get_param("environment") is not None:
        codebuild_responses._validate_required_params_environment(self._get_param("environment"))
    if self._get_param("serviceRole") is not None:
        codebuild_responses._validate_required_params_service_role(
            self.current_account, self.region, self._get_param("serviceRole")
        )
    # UpdateProject replaces each structure it is given, and leaves the others.
    for param in (
        "description", "source", "artifacts", "environment", "serviceRole", "timeoutInMinutes",
        "queuedTimeoutInMinutes", "logsConfig", "vpcConfig", "cache", "sourceVersion", "tags",
    ):
        value = self._get_param(param)
        if value is not None:
            metadata[param] = value
    if self._get_param("tags") is not None:
        project.tags = self._get_param("tags")
    if self._get_param("serviceRole") is not None:
        project.service_role = self._get_param("serviceRole")
    metadata["lastModified"] = datetime.datetime.now(datetime.timezone.utc)
    return _ActionResult({"project": metadata})


codebuild_responses._validate_required_params_source = _validate_source_located_or_piped
codebuild_responses._validate_required_params_artifacts = _validate_artifacts_located_or_piped
codebuild_responses.CodeBuildResponse.update_project = _update_project

from moto.codepipeline import exceptions as codepipeline_exceptions  # noqa: E402
from moto.codepipeline import models as codepipeline_models  # noqa: E402


class _PipelineNameInUseException(codepipeline_exceptions.CodePipelineException):
    code = "PipelineNameInUseException"


_codepipeline_create_pipeline = codepipeline_models.CodePipelineBackend.create_pipeline


def _create_pipeline_name_in_use(self, pipeline, tags):
    # AWS answers a taken name with PipelineNameInUseException; moto with InvalidStructureException.
    if pipeline["name"] in self.pipelines:
        raise _PipelineNameInUseException(f"Pipeline with name '{pipeline['name']}' already exists")
    return _codepipeline_create_pipeline(self, pipeline, tags)


codepipeline_models.CodePipelineBackend.create_pipeline = _create_pipeline_name_in_use

from botocore.awsrequest import AWSRequest  # noqa: E402
from moto.iam import access_control  # noqa: E402


def _create_aws_request(self):
    # As moto's own, except that a request without a body is signed without one
    # (moto substitutes the parsed parameters, which a GET carries in its URL).
    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
    headers = self._create_headers_for_aws_request(signed, self._headers)
    bodiless = self._method in ("GET", "HEAD", "DELETE")
    data = self._body or (b"" if bodiless else self._data)
    request = AWSRequest(method=self._method, url=self._path, data=data, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


if ENFORCING:
    access_control.IAMRequestBase._create_aws_request = _create_aws_request

# moto authorizes a request as `service:Operation`; AWS authorizes some operations under other
# action names, and a few under two (Service Authorization Reference, "Actions defined by ...").
_AWS_ACTIONS = {
    "s3:HeadBucket": ("s3:ListBucket",),
    "s3:ListObjects": ("s3:ListBucket",),
    "s3:ListObjectsV2": ("s3:ListBucket",),
    "s3:ListObjectVersions": ("s3:ListBucketVersions",),
    "s3:HeadObject": ("s3:GetObject",),
    "s3:PutBucketEncryption": ("s3:PutEncryptionConfiguration",),
    "s3:DeleteBucketEncryption": ("s3:PutEncryptionConfiguration",),
    "s3:GetBucketEncryption": ("s3:GetEncryptionConfiguration",),
    "s3:PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "s3:DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "s3:GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "s3:DeleteBucketTagging": ("s3:PutBucketTagging",),
    "s3:PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration",),
    "s3:GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration",),
    "s3:DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration",),
    "s3:PutBucketReplication": ("s3:PutReplicationConfiguration",),
    "s3:GetBucketReplication": ("s3:GetReplicationConfiguration",),
    "s3:DeleteBucketReplication": ("s3:PutReplicationConfiguration",),
    "s3:DeleteObjects": ("s3:DeleteObject",),
    "cloudfront:CreateDistributionWithTags": ("cloudfront:CreateDistribution", "cloudfront:TagResource"),
}

_check_action_permitted = access_control.IAMRequestBase.check_action_permitted


# The services whose signing name is not their IAM prefix: CloudWatch signs as `monitoring`.
_AWS_PREFIXES = {"monitoring": "cloudwatch"}


def _check_as_aws_names_it(self, resource):
    moto_named = self._action
    service, _, operation = moto_named.partition(":")
    named = f"{_AWS_PREFIXES.get(service, service)}:{operation}"
    actions = _AWS_ACTIONS.get(named, (named,))
    # Deleting a chosen version of an object is its own action.
    if named == "s3:DeleteObjects" and b"<VersionId>" in (self._body or b""):
        actions += ("s3:DeleteObjectVersion",)
    try:
        for action in actions:
            self._action = action
            _check_action_permitted(self, resource)
    finally:
        self._action = moto_named


access_control.IAMRequestBase.check_action_permitted = _check_as_aws_names_it

# What a release calls (CodeCommit commits, pipeline executions, ECS deployments): its own file.
sys.dont_write_bytecode = True
import moto_release  # noqa: E402,F401
import moto_connections  # noqa: E402,F401

from moto.server import main  # noqa: E402  (after the patches, on purpose)

if __name__ == "__main__":
    sys.exit(main())

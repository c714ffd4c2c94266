"""What a release (`drone release`) calls that moto 5.2.6 does not model, stored
and answered as AWS documents it. Imported by moto_server.py.

- CodeCommit has no commits: GetBranch, CreateCommit, GetCommit and GetFolder
  are missing. Each commit keeps its whole tree; blob ids are git's (SHA-1 of
  `blob LEN\\0CONTENT`). CreateCommit refuses what AWS refuses: a missing or
  outdated parent, a file put with the content it already has, a file deleted
  that is not there, a commit that changes nothing.
- CodePipeline StartPipelineExecution ignores `clientRequestToken` (AWS
  answers a repeated token with the execution it started) and
  `sourceRevisions`, which GetPipelineExecution and ListPipelineExecutions
  then describe; it calls an execution Succeeded at once, though it runs no
  stage: here it stays InProgress, as it would until its stages finished.
  StopPipelineExecution is missing: it stops an execution in progress
  (Stopped at once; AWS passes through Stopping) and refuses any other with
  PipelineExecutionNotStoppableException.
- ECS UpdateService to a new task definition starts no deployment, and
  ListServiceDeployments and StopServiceDeployment are missing. A rolling
  deployment completes at once (AWS takes minutes). A blue/green, linear or
  canary deployment (a load balancer with an alternate target group and a
  production listener rule) stays IN_PROGRESS while ECS would be moving the
  rule's weights: moto runs no deployment, so whoever plays ECS moves them
  with ModifyRule. It completes, as AWS describes it, once the rule sends all
  traffic to the alternate group: the service's two groups swap and the old
  revision's deployment goes. StopServiceDeployment with ROLLBACK does what AWS
  documents: all traffic back on the source revision's group, the service back
  on its task definition, the deployment ROLLBACK_SUCCESSFUL.
"""

import base64
import hashlib
import json
import uuid

from moto.codecommit import responses as codecommit_responses
from moto.codepipeline import models as codepipeline_models
from moto.codepipeline import responses as codepipeline_responses
from moto.core.exceptions import JsonRESTError
from moto.core.utils import iso_8601_datetime_with_milliseconds, utcnow
from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses
from moto.elbv2.models import elbv2_backends


def _error(code, message):
    return JsonRESTError(code, message)


# ---------------------------------------------------------------- CodeCommit

# By repository ARN: {"branches": {name: commit id}, "commits": {id: commit}}.
_git = {}


def _repository(self):
    name = self._get_param("repositoryName")
    metadata = self.codecommit_backend.get_repository(name)
    return _git.setdefault(metadata["Arn"], {"branches": {}, "commits": {}})


def _blob_id(content):
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _object_id():
    return hashlib.sha1(uuid.uuid4().bytes).hexdigest()


def _commit(repo, specifier):
    commit_id = repo["branches"].get(specifier, specifier)
    commit = repo["commits"].get(commit_id)
    if commit is None:
        raise _error("CommitDoesNotExistException", f"Could not find commit {specifier}")
    return commit


def _get_branch(self):
    repo = _repository(self)
    name = self._get_param("branchName")
    if name not in repo["branches"]:
        raise _error("BranchDoesNotExistException", f"Branch {name} does not exist")
    return json.dumps({"branch": {"branchName": name, "commitId": repo["branches"][name]}})


def _create_commit(self):
    repo = _repository(self)
    branch = self._get_param("branchName")
    parent = self._get_param("parentCommitId")
    head = repo["branches"].get(branch)
    if head is not None and not parent:
        raise _error("ParentCommitIdRequiredException", "A parent commit ID is required")
    if head is not None and parent != head:
        raise _error("ParentCommitIdOutdatedException", f"The parent commit ID {parent} is not the tip of {branch}")
    if head is None and parent:
        _commit(repo, parent)
    tree = dict(repo["commits"][head]["tree"]) if head else {}
    added, updated, deleted = [], [], []
    for put in self._get_param("putFiles") or []:
        path = put["filePath"].lstrip("/")
        content = base64.b64decode(put.get("fileContent") or "")
        mode = put.get("fileMode") or "NORMAL"
        entry = {"absolutePath": path, "blobId": _blob_id(content), "fileMode": mode}
        previous = tree.get(path)
        if previous is not None and previous["blobId"] == entry["blobId"] and previous["fileMode"] == mode:
            raise _error("SameFileContentException", f"The file {path} already has that content")
        (updated if previous else added).append(entry)
        tree[path] = entry
    for delete in self._get_param("deleteFiles") or []:
        path = delete["filePath"].lstrip("/")
        if path not in tree:
            raise _error("FileDoesNotExistException", f"The file {path} does not exist")
        deleted.append(tree.pop(path))
    if not (added or updated or deleted):
        raise _error("NoChangeException", "The commit cannot be created because no changes will be made")
    person = {
        "name": self._get_param("authorName") or "",
        "email": self._get_param("email") or "",
        "date": str(int(utcnow().timestamp())) + " +0000",
    }
    commit = {
        "commitId": _object_id(),
        "treeId": _object_id(),
        "parents": [head] if head else [],
        "message": self._get_param("commitMessage") or "",
        "author": person,
        "committer": person,
        "additionalData": "",
        "tree": tree,
    }
    repo["commits"][commit["commitId"]] = commit
    repo["branches"][branch] = commit["commitId"]
    return json.dumps(
        {
            "commitId": commit["commitId"],
            "treeId": commit["treeId"],
            "filesAdded": added,
            "filesUpdated": updated,
            "filesDeleted": deleted,
        }
    )


def _get_commit(self):
    commit = _commit(_repository(self), self._get_param("commitId"))
    return json.dumps({"commit": {k: v for k, v in commit.items() if k != "tree"}})


def _get_folder(self):
    commit = _commit(_repository(self), self._get_param("commitSpecifier"))
    folder = (self._get_param("folderPath") or "").strip("/")
    prefix = folder + "/" if folder else ""
    files, folders = [], {}
    for path, entry in sorted(commit["tree"].items()):
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix) :]
        if "/" in relative:
            name = relative.split("/", 1)[0]
            folders[name] = {"treeId": _object_id(), "absolutePath": prefix + name, "relativePath": name}
        else:
            files.append(dict(entry, relativePath=relative))
    if folder and not files and not folders:
        raise _error("FolderDoesNotExistException", f"Folder {folder} does not exist")
    return json.dumps(
        {
            "commitId": commit["commitId"],
            "folderPath": folder or "/",
            "treeId": commit["treeId"],
            "subFolders": list(folders.values()),
            "files": files,
            "symbolicLinks": [],
            "subModules": [],
        }
    )


codecommit_responses.CodeCommitResponse.get_branch = _get_branch
codecommit_responses.CodeCommitResponse.create_commit = _create_commit
codecommit_responses.CodeCommitResponse.get_commit = _get_commit
codecommit_responses.CodeCommitResponse.get_folder = _get_folder

# -------------------------------------------------------------- CodePipeline

_start_pipeline_execution = codepipeline_responses.CodePipelineResponse.start_pipeline_execution
_get_pipeline_execution = codepipeline_responses.CodePipelineResponse.get_pipeline_execution
_list_pipeline_executions = codepipeline_responses.CodePipelineResponse.list_pipeline_executions

# (pipeline, token) -> execution id; execution id -> its source revisions.
_tokens = {}
_revisions = {}


def _start_with_token(self):
    key = (self._get_param("name"), self._get_param("clientRequestToken"))
    if key[1] and key in _tokens:
        return json.dumps({"pipelineExecutionId": _tokens[key]})
    result = _start_pipeline_execution(self)
    execution_id = result.result["pipelineExecutionId"]
    _execution(self, self._get_param("name"), execution_id).status = "InProgress"
    if key[1]:
        _tokens[key] = execution_id
    _revisions[execution_id] = self._get_param("sourceRevisions") or []
    return result


def _execution(self, pipeline, execution_id):
    return self.codepipeline_backend.get_pipeline_execution(pipeline, execution_id)


def _stop_pipeline_execution(self):
    pipeline, execution_id = self._get_param("pipelineName"), self._get_param("pipelineExecutionId")
    execution = _execution(self, pipeline, execution_id)
    if execution.status != "InProgress":
        raise _error("PipelineExecutionNotStoppableException", f"Execution {execution_id} is {execution.status}")
    execution.status = "Stopped"
    execution.status_summary = self._get_param("reason")
    return json.dumps({"pipelineExecutionId": execution_id})


def _described(revision):
    return {"actionName": revision["actionName"], "revisionId": revision["revisionValue"]}


def _get_with_revisions(self):
    result = _get_pipeline_execution(self)
    execution = result.result["pipelineExecution"]
    execution["artifactRevisions"] = [
        {"name": r["actionName"], "revisionId": r["revisionValue"]}
        for r in _revisions.get(execution["pipelineExecutionId"], [])
    ]
    return result


def _list_with_revisions(self):
    result = _list_pipeline_executions(self)
    for summary in result.result["pipelineExecutionSummaries"]:
        summary["sourceRevisions"] = [_described(r) for r in _revisions.get(summary["pipelineExecutionId"], [])]
    return result


codepipeline_responses.CodePipelineResponse.start_pipeline_execution = _start_with_token
codepipeline_responses.CodePipelineResponse.get_pipeline_execution = _get_with_revisions
codepipeline_responses.CodePipelineResponse.list_pipeline_executions = _list_with_revisions
codepipeline_responses.CodePipelineResponse.stop_pipeline_execution = _stop_pipeline_execution
_ = codepipeline_models  # the backend is reached through the responses above

# ------------------------------------------------------------------------ ECS

# By service ARN: the service deployments, newest first.
_service_deployments = {}


def _shifted(service):
    """The blue/green settings of `service`'s load balancer, or None for a rolling one."""
    for lb in service.load_balancers or []:
        advanced = lb.get("advancedConfiguration")
        if advanced and advanced.get("alternateTargetGroupArn") and advanced.get("productionListenerRule"):
            return lb
    return None


def _rule(service, rule_arn):
    rules = elbv2_backends[service._account_id][service.region_name].describe_rules(None, [rule_arn])
    return rules[0]


def _weights(rule):
    for action in rule.actions:
        if action.type == "forward":
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in action.data["ForwardConfig"]["TargetGroups"]}
    return {}


def _set_weights(rule, weights):
    for action in rule.actions:
        if action.type == "forward":
            for group in action.data["ForwardConfig"]["TargetGroups"]:
                group["Weight"] = weights.get(group["TargetGroupArn"], 0)


def _ecs_deployment(service, task_definition, state):
    now = utcnow()
    return {
        "createdAt": now,
        "desiredCount": service.desired_count,
        "failedTasks": 0,
        "id": f"ecs-svc/{uuid.uuid4().int % 10**19}",
        "launchType": service.launch_type,
        "pendingCount": 0,
        "rolloutState": state,
        "rolloutStateReason": f"ECS deployment {state.lower().replace('_', ' ')}.",
        "runningCount": service.desired_count,
        "platformVersion": service.platform_version,
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "updatedAt": now,
    }


def _settle(service):
    """Completes a blue/green deployment once its rule sends everything to the alternate group."""
    deployments = _service_deployments.get(service.arn, [])
    current = deployments[0] if deployments else None
    lb = _shifted(service)
    if current is None or current["status"] != "IN_PROGRESS" or lb is None:
        return
    advanced = lb["advancedConfiguration"]
    try:
        rule = _rule(service, advanced["productionListenerRule"])
    except Exception:  # the rule is gone (the stack is being deleted): nothing moves any more
        return
    weights = _weights(rule)
    if weights.get(advanced["alternateTargetGroupArn"], 0) == 0 or any(
        w for arn, w in weights.items() if arn != advanced["alternateTargetGroupArn"]
    ):
        return
    lb["targetGroupArn"], advanced["alternateTargetGroupArn"] = advanced["alternateTargetGroupArn"], lb["targetGroupArn"]
    current.update(status="SUCCESSFUL", lifecycleStage="CLEAN_UP", finishedAt=iso_8601_datetime_with_milliseconds())
    primary = service.deployments[0]
    primary.update(rolloutState="COMPLETED", rolloutStateReason="ECS deployment completed.", updatedAt=utcnow())
    service.deployments = [primary]


_update_service = ecs_models.EC2ContainerServiceBackend.update_service


def _update_service_deploying(self, service_properties):
    cluster = service_properties.get("cluster", "default")
    name = service_properties.get("service", "").split("/")[-1]
    before = self._get_service(cluster, name).task_definition
    service = _update_service(self, service_properties)
    target = service.task_definition
    if target == before or not service.deployments:
        return service
    lb = _shifted(service)
    state = "IN_PROGRESS" if lb else "COMPLETED"
    old = [dict(d, status="ACTIVE") for d in service.deployments[:1]] if lb else []
    service.deployments = [_ecs_deployment(service, target, state)] + old
    arn = f"{service.arn.replace(':service/', ':service-deployment/')}/{uuid.uuid4().hex[:22]}"
    _service_deployments.setdefault(service.arn, []).insert(
        0,
        {
            "serviceDeploymentArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "service": (service.cluster_name, service.name),
            "startedAt": iso_8601_datetime_with_milliseconds(),
            "status": "IN_PROGRESS" if lb else "SUCCESSFUL",
            "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT" if lb else "CLEAN_UP",
            "sourceRevision": before,
            "targetRevision": target,
        },
    )
    return service


ecs_models.EC2ContainerServiceBackend.update_service = _update_service_deploying

_describe_services = ecs_models.EC2ContainerServiceBackend.describe_services


def _describe_services_settled(self, cluster_str, service_names_or_arns):
    services, failures = _describe_services(self, cluster_str, service_names_or_arns)
    for service in services:
        _settle(service)
    return services, failures


ecs_models.EC2ContainerServiceBackend.describe_services = _describe_services_settled


def _summary(deployment):
    return {
        "serviceDeploymentArn": deployment["serviceDeploymentArn"],
        "serviceArn": deployment["serviceArn"],
        "clusterArn": deployment["clusterArn"],
        "startedAt": deployment["startedAt"],
        "status": deployment["status"],
        "targetServiceRevisionArn": deployment["targetRevision"],
    }


def _list_service_deployments(self):
    services, _ = self.ecs_backend.describe_services(self._get_param("cluster") or "default", [self._get_param("service")])
    if not services:
        raise _error("ServiceNotFoundException", "Service not found.")
    wanted = self._get_param("status") or []
    deployments = [
        _summary(d) for d in _service_deployments.get(services[0].arn, []) if not wanted or d["status"] in wanted
    ]
    return json.dumps({"serviceDeployments": deployments})


def _stop_service_deployment(self):
    arn = self._get_param("serviceDeploymentArn")
    for deployments in _service_deployments.values():
        for deployment in deployments:
            if deployment["serviceDeploymentArn"] != arn:
                continue
            if deployment["status"] != "IN_PROGRESS":
                raise _error("ConflictException", f"The service deployment {arn} is {deployment['status']}")
            service = self.ecs_backend._get_service(*deployment["service"])
            lb = _shifted(service)
            if lb is not None:
                rule = _rule(service, lb["advancedConfiguration"]["productionListenerRule"])
                _set_weights(rule, {lb["targetGroupArn"]: 100})
            service.task_definition = deployment["sourceRevision"]
            service.deployments = [_ecs_deployment(service, deployment["sourceRevision"], "COMPLETED")]
            deployment.update(
                status="ROLLBACK_SUCCESSFUL",
                statusReason=f"Stopped with {self._get_param('stopType') or 'ROLLBACK'}",
                finishedAt=iso_8601_datetime_with_milliseconds(),
            )
            return json.dumps({"serviceDeploymentArn": arn})
    raise _error("ServiceDeploymentNotFoundException", f"Service deployment {arn} not found")


ecs_responses.EC2ContainerServiceResponse.list_service_deployments = _list_service_deployments
ecs_responses.EC2ContainerServiceResponse.stop_service_deployment = _stop_service_deployment

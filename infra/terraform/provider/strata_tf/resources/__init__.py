"""Every managed resource type the provider offers."""

from .backup_schedule import BackupScheduleResource
from .deploy_key import DeployKeyResource
from .deployment import DeploymentResource
from .environment_variable import EnvironmentVariableResource
from .project import ProjectResource
from .team_member import TeamMemberResource

RESOURCES = (
    ProjectResource,
    DeploymentResource,
    DeployKeyResource,
    EnvironmentVariableResource,
    TeamMemberResource,
    BackupScheduleResource,
)

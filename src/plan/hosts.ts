// Multi-host jobs (troupe's `hosts:` on a task): each role's hosts come from
// the job's own system or from the role's `system` (`system` in the job's
// backend, or `backend:system`). A system can never provide more hosts at
// once than its `workers`, so a job needing more is refused at plan time.

import type { Backend, HostRole, Project, System, Task } from "../model/project.js";
import { TroupeError } from "../util/errors.js";

/** The system a role's hosts come from, or an error positioned at the role. */
export function roleSystem(project: Project, backend: Backend, system: System, task: Task, role: HostRole): System {
  if (!role.system) return system;
  const colon = role.system.indexOf(":");
  const bname = colon >= 0 ? role.system.slice(0, colon) : backend.name;
  const sname = colon >= 0 ? role.system.slice(colon + 1) : role.system;
  const b = project.backends.find((x) => x.name === bname);
  const s = b?.systems.find((x) => x.name === sname);
  if (!b || !s) {
    const where = b ? `backend "${bname}" has no system "${sname}"` : `there is no backend "${bname}"`;
    throw new TroupeError("E_PROJECT", {
      pos: role.pos,
      path: `${task.name}: hosts.${role.name}.system`,
      message: `role "${role.name}" asks for hosts of "${role.system}", but ${where}`,
    });
  }
  return s;
}

/** Throw E_PROJECT when the roles of `task` need more hosts of some system than its workers. */
export function checkHostCounts(project: Project, backend: Backend, system: System, task: Task): void {
  if (!task.hosts || task.hosts.length === 0) return;
  const need = new Map<System, { count: number; roles: string[] }>();
  for (const role of task.hosts) {
    const s = roleSystem(project, backend, system, task, role);
    const entry = need.get(s) ?? { count: 0, roles: [] };
    entry.count += role.count;
    entry.roles.push(`${role.name}: ${role.count}`);
    need.set(s, entry);
  }
  for (const [s, { count, roles }] of need) {
    if (count <= s.workers) continue;
    throw new TroupeError("E_PROJECT", {
      pos: task.where["hosts"] ?? task.pos,
      path: `${task.name}: hosts`,
      message:
        `task "${task.name}" needs ${count} hosts of ${s.backend}:${s.name} at once (${roles.join(", ")}), ` +
        `but that system has workers: ${s.workers}; raise its workers or lower the role counts`,
    });
  }
}

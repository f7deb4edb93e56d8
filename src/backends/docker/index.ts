// The docker backend: hosts are containers of a Docker (or Podman) engine (see driver.ts).

export { createDockerDriver } from "./driver.js";
export { DockerApi, DockerApiError, dockerEndpoint, TROUPE_DOCKER_SOCKET } from "./engine-api.js";
export { DockerExecTransport } from "./exec-transport.js";

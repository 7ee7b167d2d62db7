"""AgentService servicer: the agent registry, in the JSON keys of the CAPL Routeur IA API."""

from __future__ import annotations

import grpc
from routeur.v1 import agent_service_pb2 as pb
from routeur.v1 import agent_service_pb2_grpc as pb_grpc

from routeur_grpc.api.list_paging import page_of
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.agents.registry import AgentInfo, AgentRegistry


class AgentServicer(pb_grpc.AgentServiceServicer):
    def __init__(self, registry: AgentRegistry) -> None:
        self._registry = registry

    async def ListAgents(
        self, request: pb.ListAgentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgentsResponse:
        agents = self._registry.list_agents()
        page, next_token = page_of(agents, request.page_size, request.page_token)
        return pb.ListAgentsResponse(
            agents=[agent_message(agent) for agent in page],
            total=len(agents),
            next_page_token=next_token,
        )

    async def GetAgent(
        self, request: pb.GetAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgentResponse:
        if not request.type:
            raise InvalidArgument("`type` is empty: give an agent type from ListAgents.")
        return pb.GetAgentResponse(agent=agent_message(self._registry.get_agent(request.type)))


def agent_message(agent: AgentInfo) -> pb.Agent:
    return pb.Agent(
        type=agent.type,
        name=agent.name,
        description=agent.description,
        available=agent.available,
    )

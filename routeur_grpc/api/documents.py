"""DocumentService servicer: protobuf in, domain call, protobuf out."""

from __future__ import annotations

import grpc
from routeur.v1 import document_service_pb2 as pb
from routeur.v1 import document_service_pb2_grpc as pb_grpc

from routeur_grpc.api.caller import caller_of
from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.documents import Document
from routeur_grpc.services.documents import DocumentService


class DocumentServicer(pb_grpc.DocumentServiceServicer):
    def __init__(self, documents: DocumentService) -> None:
        self._documents = documents

    async def CreateDocument(
        self, request: pb.CreateDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateDocumentResponse:
        document = await self._documents.add(
            caller_of(context).owner_id,
            request.project_id,
            title=request.title,
            text=request.text,
            file_content=request.file_content,
            filename=request.filename,
        )
        return pb.CreateDocumentResponse(document=document_message(document))

    async def GetDocument(
        self, request: pb.GetDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDocumentResponse:
        document = await self._documents.get(
            caller_of(context).owner_id, request.project_id, request.document_id
        )
        return pb.GetDocumentResponse(document=document_message(document))

    async def ListDocuments(
        self, request: pb.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDocumentsResponse:
        page = await self._documents.list(
            caller_of(context).owner_id,
            request.project_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListDocumentsResponse(
            documents=[document_message(d) for d in page.items],
            next_page_token=page.next_page_token,
        )

    async def DeleteDocument(
        self, request: pb.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteDocumentResponse:
        await self._documents.delete(
            caller_of(context).owner_id, request.project_id, request.document_id
        )
        return pb.DeleteDocumentResponse()


def document_message(document: Document) -> pb.Document:
    return pb.Document(
        document_id=document.document_id,
        project_id=document.project_id,
        title=document.title,
        filename=document.filename,
        char_count=document.char_count,
        chunk_count=document.chunk_count,
        created_at=timestamp(document.create_time),
    )

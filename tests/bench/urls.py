"""The product's URLs and the floor: the least a DRF request served by this stack costs."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as product_urlpatterns
from licensing.models import Application


class Floor(APIView):
    """One primary-key query, no authentication: what every other endpoint is compared with."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request, pk: int) -> Response:
        row = Application.objects.filter(pk=pk).values("id", "reference", "status").first()
        return Response(row or {})


urlpatterns = [path("bench/floor/<int:pk>/", Floor.as_view(), name="bench-floor")]
urlpatterns += product_urlpatterns

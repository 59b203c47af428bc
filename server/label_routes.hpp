#pragma once

#include "storage.hpp"

#include "label.hpp"

#include <string>

namespace dpost::server {

// What goes on an item's label, chosen from the stored item (label_routes.cpp). Only what delivery needs: for a
// dossier the applicant's name and ward/district and the one-stop office; for a result the office and the
// applicant with the delivery address and a masked phone. Never the ID number.
LabelData label_data_for(Storage& storage, const ItemView& item, const std::string& public_base_url);

// The pickup receipt of a dossier (phiếu gửi hồ sơ) for its dossier item. Throws ApiError 409
// "no_dossier_item" when the dossier is not sent by post (service "receive").
ReceiptData receipt_data_for(Storage& storage, const DossierInfo& dossier, const std::string& public_base_url);

// Most items in one POST /api/v1/labels/sheet: 25 A4 pages.
inline constexpr std::size_t kMaxSheetItems = 100;

}  // namespace dpost::server
